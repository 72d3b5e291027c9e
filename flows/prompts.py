"""Prompt and page templates: jinja2 files in prompts/, rendered strictly and fingerprinted.

StrictUndefined turns a missing variable into an error instead of an empty hole in a prompt.
Every rendered template's hash is recorded in run.json, so a draft says which prompts made it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import jinja2
import jinja2.meta

from flows.config import PROMPTS_DIR
from flows.escape import FILTERS


@lru_cache(maxsize=4)
def _environment(directory: Path) -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts and markdown: each value names its destination with a filter of flows.escape
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(FILTERS)
    return environment


def render(name: str, directory: Path = PROMPTS_DIR, filters: dict | None = None, **context) -> str:
    """Template `name` of `directory` rendered with `context`; `filters` (name -> function) are
    added for this rendering only. Raises jinja2.UndefinedError for a missing variable."""
    environment = _environment(directory)
    if filters:
        environment = environment.overlay()
        environment.filters = {**environment.filters, **filters}  # the overlay shares the dict otherwise
    return environment.get_template(name).render(**context)


@lru_cache(maxsize=2)
def _html_environment(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(directory), undefined=jinja2.StrictUndefined,
                              autoescape=True, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)


def render_html(name: str, directory: Path = PROMPTS_DIR, **context) -> str:
    """Template `name` rendered with autoescape on: every value is HTML-escaped (markupsafe) unless
    the caller made it Markup. For HTML pages (the email newsletter); StrictUndefined as above."""
    return _html_environment(directory).get_template(name).render(**context)


def variables(name: str, directory: Path = PROMPTS_DIR) -> set[str]:
    """The names template `name` of `directory` reads from its context (jinja2.meta), with the
    filters render() knows. Raises jinja2.TemplateError when it cannot be parsed."""
    environment = _environment(directory)
    source = environment.loader.get_source(environment, name)[0]
    return jinja2.meta.find_undeclared_variables(environment.parse(source))


def template_hash(name: str, directory: Path = PROMPTS_DIR) -> str:
    """sha256 (first 12 hex digits) of the template file as committed."""
    return hashlib.sha256((directory / name).read_bytes()).hexdigest()[:12]


def read(name: str, directory: Path = PROMPTS_DIR) -> str:
    return (directory / name).read_text(encoding="utf-8")
