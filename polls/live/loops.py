"""One instance of a class per running event loop: a server process's loop, or each test's."""

from __future__ import annotations

import asyncio
from typing import Any, Self


class PerLoop:
    """`current()` returns this loop's instance, made on first use with the loop as argument."""

    _by_loop: dict[asyncio.AbstractEventLoop, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._by_loop = {}  # each subclass keeps its own instances

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    @classmethod
    def current(cls) -> Self:
        loop = asyncio.get_running_loop()
        instance = cls._by_loop.get(loop)
        if instance is None:
            for stale in [lp for lp in cls._by_loop if lp.is_closed()]:
                del cls._by_loop[stale]
            instance = cls._by_loop[loop] = cls(loop)
        return instance
