"""A tiny ASGI application for tests/caseboard/test_serve.py: caseboard.serve around an echo socket.

`slow…` frames take a second, so a frame sent behind one waits, received but not yet taken.
"""

from __future__ import annotations

import asyncio
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseboard.settings")
django.setup()  # caseboard.serve's shutdown reads the consumers' in-flight counter


async def application(scope, receive, send):
    if scope["type"] == "http":
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    if scope["type"] != "websocket":
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            text = message.get("text") or ""
            if text.startswith("slow"):
                await asyncio.sleep(1.0)
            await send({"type": "websocket.send", "text": f"echo:{text}"})
        elif message["type"] == "websocket.disconnect":
            return
