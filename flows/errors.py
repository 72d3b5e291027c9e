"""The project's errors: one small hierarchy, every class picklable.

Prefect moves task exceptions between threads and processes, so they must survive pickling
(httpx.HTTPStatusError does not). Each error carries plain strings only, and its message
names the input or the setting at fault. None ever holds a secret.
"""


class Top5Error(Exception):
    """Base of every error this project raises on purpose."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __reduce__(self):
        return (type(self), (self.message,))


class ConfigError(Top5Error):
    """A setting is missing or wrong; the message names the setting to fix."""


class UnreadableFile(ConfigError, ValueError):
    """A file of a week folder or of the history cannot be read as what it should hold (git
    merge-conflict markers, cut short, another shape); the message names the file and what to do."""


class FeedError(Top5Error):
    """arXiv answered with an error, an unreadable feed, or not at all; names the query."""


class PdfError(Top5Error):
    """A PDF could not be fetched or read. `reason` is a short typed code (flows.pdf.REASONS)."""

    def __init__(self, message: str, reason: str = "broken"):
        super().__init__(message)
        self.reason = reason

    def __reduce__(self):
        return (type(self), (self.message, self.reason))


class LLMError(Top5Error):
    """The LLM could not give a usable answer (after the retries the LLM layer owns)."""


class DraftError(Top5Error):
    """The draft cannot be written without losing something (e.g. the editor's edits)."""


class PullRequestError(Top5Error):
    """The draft is committed locally but git push or GitHub refused it; names what to fix."""


class Stopped(Top5Error):
    """The run was stopped by a signal (`signal`: its number; SIGTERM from a service manager,
    SIGINT from Ctrl-C) before its draft was done; the message says what was kept."""

    def __init__(self, message: str, signal: int = 2):
        super().__init__(message)
        self.signal = signal

    def __reduce__(self):
        return (type(self), (self.message, self.signal))
