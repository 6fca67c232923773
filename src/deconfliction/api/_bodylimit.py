"""Refuse request bodies above a cap with 413, before they are buffered in full."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit"]


class BodyLimit:
    """ASGI middleware: a declared ``Content-Length`` above ``max_bytes`` is refused at
    once; a chunked body is counted as it arrives and refused when it passes the cap."""

    def __init__(self, app: ASGIApp, max_bytes: int, paths: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.paths = dict(paths or {})
        """Other caps for some paths (track batches are larger than any other body)."""

    async def _refuse(self, send: Send, cap: int) -> None:
        body = json.dumps(
            {
                "type": "https://deconfliction.invalid/problems/content-too-large",
                "title": "Content too large",
                "status": 413,
                "detail": f"the request body is larger than {cap} bytes",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.paths.get(scope.get("path", ""), self.max_bytes)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > cap:
                    await self._refuse(send, cap)
                    return
        # No usable Content-Length (chunked): read the body here, up to the cap, then replay it.
        if declared_ok(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return  # the client went away
            chunk = msg.get("body", b"")
            seen += len(chunk)
            if seen > cap:
                await self._refuse(send, cap)
                return
            chunks.append(chunk)
            if not msg.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def declared_ok(scope: Scope) -> bool:
    """Whether the request declares a valid Content-Length (already checked against the cap)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return bool(value.isdigit())
    return False
