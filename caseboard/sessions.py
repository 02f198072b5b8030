"""Sessions in the database, cached in Redis, that keep working while Redis is down.

Django's cached_db store raises when its cache is unreachable, which would turn a Redis outage
into HTTP 500s for every phone joining or reconnecting. Here a cache failure is a cache miss.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

logger = logging.getLogger(__name__)


class _TolerantCache:
    def __init__(self, cache) -> None:
        self._cache = cache

    def _try(self, name: str, *args, default=None, **kwargs):
        try:
            return getattr(self._cache, name)(*args, **kwargs)
        except Exception:
            logger.warning("session cache %s failed; using the database", name)
            return default

    def __contains__(self, key) -> bool:
        return bool(self._try("__contains__", key, default=False))

    def get(self, *args, **kwargs):
        return self._try("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._try("set", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._try("delete", *args, default=False, **kwargs)

    async def _atry(self, name: str, *args, default=None, **kwargs):
        try:
            return await getattr(self._cache, name)(*args, **kwargs)
        except Exception:
            logger.warning("session cache %s failed; using the database", name)
            return default

    async def aget(self, *args, **kwargs):
        return await self._atry("aget", *args, **kwargs)

    async def aset(self, *args, **kwargs):
        return await self._atry("aset", *args, **kwargs)

    async def adelete(self, *args, **kwargs):
        return await self._atry("adelete", *args, default=False, **kwargs)


class SessionStore(CachedDBStore):
    def __init__(self, session_key=None) -> None:
        super().__init__(session_key)
        self._cache = _TolerantCache(self._cache)

    def cached_data(self) -> dict | None:
        """The session's data from its cache alone, or None (no key, a miss, the cache down):
        never the database. Thread-safe, so a socket's admission can read it on any thread
        instead of queueing on the one database thread (polls/live/consumers.py). A hit is kept
        as this store's data, as load() would."""
        if self.session_key is None:
            return None
        data = self._cache.get(self.cache_key)
        if not isinstance(data, dict):
            return None
        self._session_cache = data
        return data
