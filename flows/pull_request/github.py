"""GitHub's REST API for the draft: the three pull-request endpoints, one branch, errors that
say what to fix. The token travels only in the Authorization header, and only to the host of
GITHUB_API_URL: a redirect is never followed (GitHub answers 301 for a renamed repository)."""

from __future__ import annotations

import httpx
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from flows.config import Settings, configured_secrets
from flows.errors import PullRequestError
from flows.http import (
    BodyTooLarge,
    DeadlineExceeded,
    fetch_within,
    joined,
    safe_error,
    safe_url,
    split_credentials,
    with_params,
    without_credentials,
)
from flows.pull_request.body import TOOL, inline
from flows.pull_request.git import redact

API_ATTEMPTS = 3  # for 5xx, 429 and dropped connections only; any other 4xx fails at once
API_BACKOFF = 0.5  # seconds before the second try, doubled after, at most 4 s
API_DEADLINE = 60.0  # wall-clock seconds for one answer, however slowly the server sends it
API_MAX_BYTES = 10_000_000  # a pull request's JSON is a few kilobytes


class _Transient(Exception):
    """A 5xx or 429 answer: worth another try."""


class GitHub:
    """The three pull-request endpoints, one branch, errors that say what to fix."""

    def __init__(self, settings: Settings, branch: str, where: str):
        self.settings, self.branch, self.where = settings, branch, where
        self.repo = settings.github_repository
        # a user:password in GITHUB_API_URL goes apart, as Basic auth, so httpx's log lines never show it
        self._api, auth = split_credentials(settings.github_api_url)
        self._secrets = configured_secrets(settings)  # a server may echo any of them back
        self.client = httpx.Client(auth=auth, timeout=30, headers={
            "Authorization": f"Bearer {settings.github_token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": TOOL,
        })

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()

    def find_open(self) -> dict | None:
        owner = self.repo.split("/")[0]
        action = "look up pull requests"
        found = self._call("GET", f"/repos/{self.repo}/pulls", action,
                           params={"head": f"{owner}:{self.branch}", "state": "open"})
        if not isinstance(found, list) or not all(isinstance(pull, dict) for pull in found):
            raise PullRequestError(self._not_github(None, action))
        return found[0] if found else None

    def create(self, title: str, body: str) -> dict:
        return self._call("POST", f"/repos/{self.repo}/pulls", "open a pull request",
                          json={"title": title, "head": self.branch, "base": self.settings.digests_base, "body": body})

    def update(self, number: int, body: str) -> dict:
        return self._call("PATCH", f"/repos/{self.repo}/pulls/{number}", f"update pull request #{number}",
                          json={"body": body})

    def _call(self, method: str, path: str, action: str, **kwargs):
        try:
            response = self._send(method, path, **kwargs)
        except (_Transient, httpx.TransportError) as exc:
            raise PullRequestError(self._redact(
                f"GitHub API at {safe_url(self.settings.github_api_url)} could not {action} after {API_ATTEMPTS} tries "
                f"({type(exc).__name__}: {safe_error(exc)}). {self.where}")) from None
        if response.is_redirect or response.status_code >= 400:
            raise PullRequestError(self._redact(self._explain(response, action)))
        try:
            return response.json()
        except ValueError:
            raise PullRequestError(self._not_github(response, action)) from None

    @retry(retry=retry_if_exception_type((_Transient, httpx.TransportError)), reraise=True,
           stop=stop_after_attempt(API_ATTEMPTS), wait=wait_exponential(multiplier=API_BACKOFF, max=4))
    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        # a query in GITHUB_API_URL (a proxy's key) stays as written, after the call's own path
        url = with_params(str(joined(self._api, path)), kwargs.pop("params", None))
        request = self.client.build_request(method, url, **kwargs)
        try:
            response = fetch_within(self.client, request, deadline=API_DEADLINE, max_bytes=API_MAX_BYTES,
                                    what=f"GitHub API {method} {path}").whole()
        except (DeadlineExceeded, BodyTooLarge) as exc:
            raise _Transient(str(exc)) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise _Transient(f"{response.status_code} {_github_message(response)}")
        return response

    def _redact(self, text: str) -> str:
        return redact(text, self.settings.github_token, self._secrets)

    def _explain(self, response: httpx.Response, action: str) -> str:
        status, said, repo = response.status_code, _github_message(response), self.repo
        if response.is_redirect:
            return f"{self._moved(response, action)} {self.where}"
        if status == 401 and without_credentials(self.settings.github_api_url)[1]:
            what = (f"GitHub rejected the user:password in GITHUB_API_URL (401 {said}), sent in place of "
                    "GITHUB_TOKEN: correct them, or remove them from the URL to send the token.")
        elif status == 401:
            what = f"GitHub rejected GITHUB_TOKEN (401 {said}): set GITHUB_TOKEN to a valid token for {repo}."
        elif status == 403:
            what = (f"GITHUB_TOKEN may not {action} in {repo} (403 {said}): it needs 'Pull requests: "
                    f"read and write' and 'Contents: read and write' on {repo} (or a rate limit was hit).")
        elif status == 404:
            what = (f"GitHub found no repository {repo} (404 {said}) when trying to {action}: check "
                    f"GITHUB_REPOSITORY (owner/name) and that GITHUB_TOKEN can see it.")
        elif status == 422:
            what = (f"GitHub refused to {action} from {self.branch} into {self.settings.digests_base} (422 {said}): "
                    f"check that {self.branch} was pushed to {repo} and differs from {self.settings.digests_base}.")
        else:
            what = f"GitHub answered {status} ({said}) when trying to {action} in {repo}."
        return f"{what} {self.where}"


    def _moved(self, response: httpx.Response, action: str) -> str:
        """A 301/302/307/308: never followed, so the token cannot travel to the new place."""
        target = httpx.URL(response.headers.get("Location", ""))
        target = response.url.join(target) if target.is_relative_url else target
        elsewhere = target.host != httpx.URL(self.settings.github_api_url).host
        fix = ("if the repository was renamed or transferred, set GITHUB_REPOSITORY to its new owner/name"
               if "/repos/" in target.path and not elsewhere else
               "set GITHUB_API_URL to the API's real address (GitHub Enterprise: https://HOST/api/v3)")
        return (f"GitHub API at {safe_url(self.settings.github_api_url)} answered {response.status_code} "
                f"({response.reason_phrase}) to {safe_url(str(target))} when trying to {action}; redirects are "
                f"not followed, so GITHUB_TOKEN was not sent there: {fix}.")

    def _not_github(self, response: httpx.Response | None, action: str) -> str:
        kind = response.headers.get("Content-Type", "no content type") if response is not None else "another shape"
        return self._redact(f"GitHub API at {safe_url(self.settings.github_api_url)} did not answer like GitHub "
                            f"({kind}) when trying to {action}: check GITHUB_API_URL (GitHub Enterprise: "
                            f"https://HOST/api/v3). {self.where}")


def _github_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return inline(response.text or response.reason_phrase, 200)
    if not isinstance(data, dict):
        return response.reason_phrase
    errors = data.get("errors") if isinstance(data.get("errors"), list) else []
    details = [str(e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip())
               for e in errors if isinstance(e, dict)]
    said = ": ".join(filter(None, [str(data.get("message") or ""), "; ".join(details)]))
    return inline(said, 300) or response.reason_phrase  # "(401 Unauthorized)", not "(401 )"

