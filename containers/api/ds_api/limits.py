"""Refuse request bodies over the configured size with 413, before reading them whole."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any


class BodyLimit:
    """ASGI middleware: 413 when Content-Length, or the bytes actually sent, exceed ``max_bytes``."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send, int(value))
                return
        seen = {"bytes": 0, "over": False, "refused": False}

        async def _receive() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_bytes:
                    seen["over"] = True  # stop reading: the app sees a client that went away
                    return {"type": "http.disconnect"}
            return message

        async def _send(message: dict[str, Any]) -> None:
            if not seen["over"]:
                await send(message)
            elif message["type"] == "http.response.start" and not seen["refused"]:
                seen["refused"] = True  # whatever the app answers to the cut-off body, the client gets 413
                await self._refuse(send, int(seen["bytes"]))

        try:
            await self.app(scope, _receive, _send)
        except Exception:
            if not seen["over"]:
                raise
        if seen["over"] and not seen["refused"]:
            await self._refuse(send, int(seen["bytes"]))

    async def _refuse(self, send: Any, size: int) -> None:
        body = json.dumps(
            {
                "detail": [
                    {
                        "field": "body",
                        "value": f"{size} bytes",
                        "rule": "max_body_bytes",
                        "message": f"request body over {self.max_bytes} bytes; send fewer records per request",
                    }
                ]
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
