"""Threads share the process's Redis connection pool for the cache (a thread per request must
not open a connection per request)."""

import threading

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from tests.services import redis_available, require


def test_threads_share_one_redis_pool():
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache is not Redis here (REDIS_URL unset)")
    require(redis_available(), "Redis (REDIS_URL=redis://...)")
    pools = []

    def request():
        cache = caches["default"]  # a cache object per thread, as Django gives each request thread
        cache.get("pmhub:pool-probe")
        pools.append(id(cache._cache._get_connection_pool(write=False)))

    threads = [threading.Thread(target=request) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(pools)) == 1


def test_one_redis_client_per_pool_not_per_call():
    """Django would build a redis.Redis (and its callback table) for every cache call."""
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache is not Redis here (REDIS_URL unset)")
    require(redis_available(), "Redis (REDIS_URL=redis://...)")
    client = caches["default"]._cache
    assert client.get_client() is client.get_client(write=True) is client.get_client("any-key")
    caches["default"].set("pmhub:client-probe", 1, 5)
    assert caches["default"].get("pmhub:client-probe") == 1
