"""A local webhook receiver for the tests: a threading http.server that verifies every
request with the ``standardwebhooks`` package (an implementation we did not write)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    message_id: str
    payload: Any
    verified: bool
    answered: int


@dataclass
class Receiver:
    secret: str = ""
    # Status codes to answer in turn; when used up, ``default``.
    script: list[int] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    @property
    def delivered(self) -> list[Received]:
        return [r for r in self.received if r.verified and 200 <= r.answered < 300]


@contextmanager
def webhook_receiver(secret: str = "", **options: Any) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, **options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                verified = True
            except WebhookVerificationError:
                payload, verified = None, False
            status = receiver.answer() if verified else 401
            with receiver.lock:
                receiver.received.append(
                    Received(self.headers.get("webhook-id", ""), payload, verified, status)
                )
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
