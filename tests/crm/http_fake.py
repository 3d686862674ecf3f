"""A fake that answers ``responses``' callbacks (``tests.crm.meta_fake``,
``tests.crm.linkedin_fake``) served over real HTTP on 127.0.0.1, for a REAL worker in
another process (``tests.crm.worker``), which ``responses`` cannot reach. The fake's
state stays in the test's process, so the test adds items while the worker reads."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    """What a ``responses`` callback reads of a request."""

    method: str
    url: str
    body: str
    headers: Any


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A worker SIGKILLed mid-request leaves its socket closed: nothing to report.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Served:
    """``answer(request) -> (status, headers, body)`` at ``base_url`` until ``stop()``."""

    def __init__(self, answer: Callable[[Request], tuple[int, dict, str]]):
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                served._reply(self, "GET")

            def do_POST(self):
                served._reply(self, "POST")

        self.answer = answer
        self.lock = threading.Lock()  # one request at a time, as the fakes expect
        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _reply(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        request = Request(method, self.base_url + handler.path, body, handler.headers)
        with self.lock:
            status, headers, text = self.answer(request)
        data = text.encode()
        handler.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
