"""Refuse request bodies over the limit before they are read into memory, with or without Content-Length."""

from __future__ import annotations

import json


class BodyLimit:
    """Pure ASGI middleware: 413 on a too-large Content-Length at once; a chunked body is counted as it arrives."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and b"transfer-encoding" in headers:
            # Two framings at once is how request smuggling starts; the server would read the chunked one whole.
            return await self.refuse(send, 400, "a request may not carry both Content-Length and Transfer-Encoding")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                return await self.refuse(send, 413, f"request body over {self.max_bytes} bytes")
            return await self.app(scope, receive, send)
        if headers.get(b"transfer-encoding") is None:
            return await self.app(scope, receive, send)  # no body at all
        messages, size = [], 0
        while True:  # buffer at most max_bytes, then replay it to the app
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self.refuse(send, 413, f"request body over {self.max_bytes} bytes")
            if message["type"] != "http.request" or not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        return await self.app(scope, replay, send)

    async def refuse(self, send, status: int, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
