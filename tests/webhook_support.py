"""A real webhook receiver on 127.0.0.1 that verifies every message with the ``standardwebhooks`` package.

Shared by the delivery tests and ``benchmarks/webhooks.py``. The receiver can fail the first attempts of each
message (``fail_first``), answer a fixed status (``status``), be slow (``delay``), and be stopped and started
again on the same port (a receiver that is down for a while).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """Collects verified messages: ``ids`` counts requests per ``webhook-id``, ``messages`` keeps the last body."""

    def __init__(
        self,
        secret: str | None = None,
        *,
        port: int | None = None,
        fail_first: int = 0,
        status: int = 204,
        delay: float = 0.0,
    ) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.fail_first = fail_first
        self.status = status
        self.delay = delay
        self.lock = threading.Lock()
        self.ids: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.messages: dict[str, dict[str, Any]] = {}
        self.bad_signatures = 0
        self.timestamps: dict[str, list[int]] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a production receiver

            def _answer(self, code: int) -> None:
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    assert receiver.secret is not None
                    payload = Webhook(receiver.secret).verify(body, headers)
                except (WebhookVerificationError, AssertionError):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self._answer(400)
                    return
                if receiver.delay:
                    time.sleep(receiver.delay)
                msg_id = headers["webhook-id"]
                with receiver.lock:
                    receiver.ids[msg_id] += 1
                    receiver.timestamps.setdefault(msg_id, []).append(int(headers["webhook-timestamp"]))
                    n = receiver.ids[msg_id]
                    code = 500 if n <= receiver.fail_first else receiver.status
                    if 200 <= code < 300:
                        receiver.accepted[msg_id] += 1
                        receiver.messages[msg_id] = payload
                self._answer(code)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under concurrent senders

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a sender killed mid-request resets its connection: expected here

        self._server = Server(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def dump(self) -> str:
        return json.dumps({"ids": dict(self.ids), "bad": self.bad_signatures})
