"""A party's level-0 webhook receiver on loopback, as the README's snippet: verify, de-dup.

Delivery is at least once (the cursor is in the store), so an event may come again after a
crash — a duplicate is counted, not a fault — but level 0 gets every seq, in order: a seq
above the next one expected is an event lost, which :attr:`Receiver.findings` records.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from deconfliction.hotline import verify_webhook

__all__ = ["Receiver"]


class Receiver:
    """``http://127.0.0.1:PORT/hook``; :attr:`last` is the last seq handled."""

    def __init__(self) -> None:
        self.secret = ""
        self.last = 0
        self.duplicates = 0
        self.findings: list[str] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # the hub died while sending it
                    return
                sig = self.headers.get("Deconfliction-Signature", "")
                code = receiver.handle(sig, body)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                del args

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def handle(self, signature: str, body: bytes) -> int:
        if not verify_webhook(self.secret, signature, body):
            with self.lock:
                self.findings.append(
                    f"webhook: signature {signature!r} does not verify {body[:200]!r}"
                )
            return 401
        event = json.loads(body)
        seq = event["seq"]
        with self.lock:
            if seq == 0:  # a probe
                return 200
            if seq <= self.last:
                self.duplicates += 1
            elif seq != self.last + 1:
                self.findings.append(f"webhook: seq {seq} after {self.last} (lost events)")
                self.last = seq
            else:
                self.last = seq
        return 200

    def start(self, secret: str, cursor: int) -> None:
        self.secret, self.last = secret, cursor
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
