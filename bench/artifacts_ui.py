"""The draft as the editor sees it in the Prefect UI: screenshots taken by headless Chromium.

Drafts the shared arXiv week (served on 127.0.0.1 by the tests' arXiv server, with the tests'
scripted LLM) against a Prefect server of its own on a free port, then saves PNGs of the UI's
pages for the `digest-draft`, `digest-papers` and `ranked-candidates` artifacts, 1400 px wide,
and prints, per page, the images Chromium loaded and the links it found.

    .venv/bin/python bench/artifacts_ui.py [--out DIR] [--mirror DIR]

Needs Debian's chromium (`apt-get install chromium`) and the shared fixtures. Every process it
starts is stopped by its PID before it exits.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEYS = ("digest-draft", "digest-papers", "ranked-candidates")
WIDTH, HEIGHT = 1400, 2600


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "screenshots")
    parser.add_argument("--mirror", type=Path, default=ROOT.parent / "shared" / "fixtures" / "week")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None or not (args.mirror / "api-week.xml").is_file():
        print("artifacts_ui: needs chromium on PATH and the shared arXiv week (--mirror)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="top5-ui-") as tmp, ExitStack() as stack:
        base = stack.enter_context(_prefect_server(Path(tmp) / "prefect"))
        draft = _draft_the_week(args.mirror, Path(tmp) / "digests", stack)
        print(f"draft: {draft}")
        for key in KEYS:
            shot = args.out / f"{key}.png"
            dom = _screenshot(chromium, f"{base}/artifacts/artifact/{_newest(base, key)}", shot)
            images = re.findall(r'<img[^>]*src="(data:image/[a-z]+|[^"]{0,60})', dom)
            links = sorted(set(re.findall(r'<a[^>]*href="([^"#]{0,60})', dom)) - {""})
            print(f"{key}: {shot} ({shot.stat().st_size:,} bytes); images: {len(images)} "
                  f"({sum(1 for i in images if i.startswith('data:image'))} embedded); "
                  f"links: {', '.join(links[:12])}")
    return 0


@contextmanager
def _prefect_server(home: Path):
    """A Prefect server on a free port; yields the UI's base URL and points this process at it."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_API_URL=api, PREFECT_UI_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    prefect = str(Path(sys.executable).parent / "prefect")
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_healthy(api, server)
        os.environ.update(PREFECT_HOME=str(home), PREFECT_API_URL=api)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _draft_the_week(mirror: Path, digests: Path, stack: ExitStack) -> Path:
    import json

    from tests import scripted_llm
    from tests.arxiv_server import ArxivServer
    from tests.openai_server import OpenAIServer

    arxiv = stack.enter_context(ArxivServer((mirror / "api-week.xml").read_bytes(), mirror / "pdf"))
    llm = stack.enter_context(OpenAIServer(scripted_llm.reply))
    os.environ.update(ARXIV_API_URL=arxiv.api_url, ARXIV_PDF_URL=arxiv.pdf_url, ARXIV_DELAY_SECONDS="0.01",
                      OPENAI_BASE_URL=llm.base_url, TOP5_POPULARITY="off",
                      TOP5_CACHE_DIR=str(digests.parent / "cache"))
    window = json.loads((mirror / "manifest.json").read_text())["window"]
    from flows.weekly_digest import weekly_digest

    return Path(weekly_digest(start=window[0][:10], end=window[1][:10], digests_dir=str(digests), open_pr=False))


def _newest(base: str, key: str) -> str:
    """The id of the newest artifact under `key` (its UI page is /artifacts/artifact/<id>)."""
    found = httpx.post(f"{base}/api/artifacts/filter", timeout=30, json={
        "artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 1}).raise_for_status().json()
    return found[0]["id"]


def _screenshot(chromium: str, url: str, png: Path) -> str:
    """Saves `url` as rendered at WIDTH px to `png`; returns the rendered DOM."""
    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
              "--run-all-compositor-stages-before-draw",
              f"--window-size={WIDTH},{HEIGHT}", "--virtual-time-budget=20000"]
    subprocess.run([*common, f"--screenshot={png}", url], capture_output=True, timeout=180, check=True)
    return subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=180,
                          check=True).stdout


def _wait_healthy(api: str, server: subprocess.Popen, timeout: float = 120) -> None:
    from tests.loopback import healthy

    if not healthy(api, lambda: server.poll() is None, timeout):
        raise SystemExit(f"artifacts_ui: the Prefect server was not healthy after {timeout:.0f} s (or exited)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    raise SystemExit(main())
