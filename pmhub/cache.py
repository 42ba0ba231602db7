"""One Redis connection pool per process for the cache.

Django keeps a cache object per thread, and its Redis backend gives each one a connection pool of
its own. A server that starts a thread per request (runserver, the test live server, gunicorn
with threads) then opens a new connection for every request and leaves it open until garbage
collection: a long fuzzing run reached Redis' 10,000 client limit. redis-py's pools are thread-safe
and reset themselves after a fork, so one pool per URL and options per process is enough.
"""

import threading

import redis


class SharedConnectionPool(redis.ConnectionPool):
    _shared: dict = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url, **kwargs):
        key = (url, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
        return pool
