"""One Redis connection pool per process for the cache.

Django keeps a cache object per thread, and its Redis backend gives each one a connection pool of
its own. A server that starts a thread per request (runserver, the test live server, gunicorn
with threads) then opens a new connection for every request and leaves it open until garbage
collection: a long fuzzing run reached Redis' 10,000 client limit. redis-py's pools are thread-safe
and reset themselves after a fork, so one pool per URL and options per process is enough.
"""

import threading

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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


class SharedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new `redis.Redis` object for every cache call (`get_client`), and each one
    builds its table of ~170 response callbacks: about 0.1 ms per call, two or three times per
    API request. A client per connection pool is enough (redis-py clients are thread-safe; the
    pool resets itself after a fork)."""

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        clients = self.__dict__.setdefault("_shared_clients", {})
        client = clients.get(id(pool))
        if client is None:
            client = clients[id(pool)] = self._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with one client per connection pool (SharedClientRedisCacheClient)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
