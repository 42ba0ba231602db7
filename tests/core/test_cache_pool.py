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
