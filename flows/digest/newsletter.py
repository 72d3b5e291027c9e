"""`top5 render WEEK --style email`: the merged digest as an email newsletter, one self-contained
HTML file plus its plain-text part, from the templates of prompts/styles/email/.

The source is the week's README.md as it stands after the sync: the editor's merged text. Its
markdown becomes HTML with markdown-it-py (CommonMark) with raw HTML switched off, so any markup in
a paper's or the editor's text arrives as visible text, never as tags; the figures' <img> lines the
drafts carry are read with the standard HTML parser and only their alt and src are kept. Email
clients drop <style> blocks and never load relative files, so every tag gets its CSS inline and
every image and companion link is absolute: the merged branch on GitHub (GITHUB_REPOSITORY), or,
without one, the image embedded as a data: URI and the companion page appended to the email.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

from markdown_it import MarkdownIt
from markupsafe import Markup

from flows import prompts
from flows.config import Settings
from flows.errors import DraftError
from flows.files import read_editor_text
from flows.summaries.exemplar import COMMENT

log = logging.getLogger(__name__)

STYLE = "email"
PAGES = {"newsletter.html": "newsletter.html.j2", "newsletter.txt": "newsletter.txt.j2"}
COMPANION = "papers.md"
CSS = {  # inline styles per tag: email clients ignore <style> blocks
    "h1": "font-size:26px;line-height:1.25;margin:0 0 8px;color:#111;",
    "h2": "font-size:20px;line-height:1.3;margin:32px 0 10px;color:#111;",
    "p": "font-size:16px;line-height:1.6;margin:0 0 14px;color:#222;",
    "a": "color:#1a5fb4;text-decoration:underline;",
    "img": "display:block;max-width:100%;height:auto;margin:12px 0;border:1px solid #ddd;",
    "blockquote": "margin:0 0 14px;padding:8px 14px;border-left:4px solid #e5a50a;background:#fdf6e3;color:#333;",
    "ul": "margin:0 0 14px;padding-left:22px;", "ol": "margin:0 0 14px;padding-left:22px;",
    "li": "font-size:16px;line-height:1.6;color:#222;", "code": "font-family:monospace;background:#f3f3f3;",
}
# the tool's notes to the editor (prompts/styles/*/digest.md.j2, flows/digest/pages.py banners)
_DRAFT_NOTE = re.compile(r"^> (?:⚠️|✍️|🏆|🖼️|\*\*OFFLINE DRAFT|\*\*\d+ of \d+ sections carry|\*\*Drawn from|\*\*The order of).*\n?",
                         re.M)
_IMG_LINE = re.compile(r"^[ \t]*<img\b[^>\n]*>[ \t]*$", re.M | re.I)


def render_newsletter(folder: Path, settings: Settings | None = None) -> dict[str, str]:
    """{'newsletter.html': one self-contained HTML document, 'newsletter.txt': its plain-text part}
    for the week in `folder`, from its README.md (and papers.md). DraftError when there is no README."""
    settings = settings or Settings.from_env()
    readme = _read(folder / "README.md")
    week = folder.name
    base = _github_base(settings, week)
    companion = f"{base.replace('/raw/', '/blob/', 1)}/{COMPANION}" if base else "#abstracts"
    plain = companion if base else "the abstracts at the end of the HTML part"
    body = _html(readme, folder, base, companion)
    appended = None
    if not base and (folder / COMPANION).is_file():
        appended = _html(_read(folder / COMPANION), folder, base, companion)
    title = next((line[2:].strip() for line in readme.splitlines() if line.startswith("# ")), week)
    context = dict(title=title, week=week, body=Markup(body), companion=companion,
                   abstracts=Markup(appended) if appended else None, text=_plain(readme, plain), text_companion=plain)
    return {page: prompts.render_html(f"styles/{STYLE}/{template}", **context) for page, template in PAGES.items()}


def _github_base(settings: Settings, week: str) -> str | None:
    """https://github.com/OWNER/NAME/raw/BASE/DIGESTS/WEEK: where the merged week's files are."""
    if not settings.github_repository:
        return None
    path = "/".join(quote(part) for part in (settings.digests_base, settings.digests_subdir.strip("/"), week) if part)
    return f"https://github.com/{settings.github_repository}/raw/{path}"


def _html(markdown: str, folder: Path, base: str | None, companion: str) -> str:
    parser = MarkdownIt("commonmark", {"html": False})
    tokens = parser.parse(_IMG_LINE.sub(lambda m: _as_markdown_image(m.group(0)), markdown))
    for token in _walk(tokens):
        if token.type == "image":
            token.attrSet("src", _absolute(token.attrGet("src") or "", folder, base, embed=True))
        elif token.type == "link_open":
            href = token.attrGet("href") or ""
            token.attrSet("href", companion if href == COMPANION else _absolute(href, folder, base, embed=False))
        tag = token.tag if token.nesting >= 0 else ""
        if tag in CSS:
            token.attrSet("style", CSS[tag])
    return parser.renderer.render(tokens, parser.options, {})


def _walk(tokens):
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _absolute(url: str, folder: Path, base: str | None, embed: bool) -> str:
    """A relative link of the week folder made absolute (GitHub), or for an image a data: URI."""
    if not url or re.match(r"^[a-z][a-z0-9+.-]*:|^#", url, re.I):
        return url
    if base:
        return f"{base}/{url.lstrip('./')}"
    file = (folder / url).resolve()
    if embed and file.is_file() and file.is_relative_to(folder.resolve()):
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return f"data:{kind};base64,{base64.b64encode(file.read_bytes()).decode()}"
    return url


class _ImgAttrs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "img":
            self.attrs = {k: v or "" for k, v in attrs}


def _img_attrs(line: str) -> dict[str, str]:
    reader = _ImgAttrs()
    reader.feed(line)
    return reader.attrs


def _as_markdown_image(line: str) -> str:
    """An <img> line as a markdown image: alt and src kept, every other attribute dropped."""
    attrs = _img_attrs(line)
    alt = re.sub(r"[\[\]\\]", " ", attrs.get("alt", "figure"))
    src = attrs.get("src", "")
    return f"![{alt}](<{src.replace('>', '%3E')}>)" if src else ""


def _plain(markdown: str, companion: str) -> str:
    """The plain-text part: the markdown as written, figures as a line naming them."""
    text = _IMG_LINE.sub(lambda m: f"[figure: {_img_attrs(m.group(0)).get('alt', 'figure')}]", markdown)
    return text.replace(f"]({COMPANION})", f"] ({companion})")


def _read(path: Path) -> str:
    """The page as the editor saved it (in whatever encoding), less what is for the editor only:
    HTML comments and the draft's notes and banners (each logged, since the editor left them)."""
    try:
        read = read_editor_text(path)
    except OSError as exc:
        raise DraftError(f"{path}: no digest to send ({exc.strerror or exc})") from None
    if read.note:
        log.warning("%s", read.note)
    text = read.text
    for name, pattern in (("HTML comment", COMMENT), ("draft note", _DRAFT_NOTE)):
        if found := pattern.findall(text):
            log.warning("%s: %d %s(s) left in the page, not sent", path, len(found), name)
            text = pattern.sub("", text)
    return text

