"""The plumbing every test server shares: an HTTP server on 127.0.0.1, a free port, a thread;
and a raw one that never finishes its headers."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Loopback:
    """Serves `handler` on 127.0.0.1 in a daemon thread until stop(); `base` is its http:// URL."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class HeaderDrip:
    """A raw TCP server on 127.0.0.1 that sends `HTTP/1.1 200 OK` and then a header one byte every
    0.2 s, never ending the headers: httpx's per-read timeout never trips."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.closed.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket):
        with conn:
            conn.recv(65536)
            try:
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                while not self.closed.is_set():
                    conn.sendall(b"a")
                    time.sleep(0.2)
            except OSError:  # the client hung up
                return

    def stop(self):
        self.closed.set()
        self.listener.close()


def healthy(api: str, running, timeout: float) -> bool:
    """Polls the Prefect server at `api` until /health answers 200 (True), or until `running()`
    turns False or `timeout` seconds pass (False)."""
    import time

    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running():
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    return False
