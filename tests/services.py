"""Which real services this run has. With CI=true a test that needs a missing one fails."""

import os
import shutil
import socket

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def redis_available() -> bool:
    url = settings.REDIS_URL
    if not url:
        return False
    from urllib.parse import urlparse

    parsed = urlparse(url)
    return _reachable(parsed.hostname or "127.0.0.1", parsed.port or 6379)


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


def require(condition: bool, what: str) -> None:
    """Skip locally, fail in CI, when a real service is missing."""
    if condition:
        return
    message = f"needs {what}"
    if CI:
        pytest.fail(f"{message}, which CI must provide", pytrace=False)
    pytest.skip(message)


def celery_pools_reset(*, close: bool) -> None:
    """Make the in-process Celery app build new broker connections from its (changed) conf. kombu's
    pool registry is keyed by URL and transport options: `close` only a pool the test made itself."""
    from pmhub.celery import app

    if close and app._pool is not None:
        app._pool.force_close_all()
        # ...and take the closed pool (and the producer pool drawing on it) out of kombu's registry,
        # so that a later publisher with the same URL and options (a worker kept for the next test,
        # tests/integration/conftest.py SharedWorkers) gets new connections, not "Acquire on closed pool".
        from kombu import pools

        for group in (pools.connections, pools.producers):
            for key, pool in list(dict.items(group)):
                if getattr(pool, "_closed", False) or getattr(getattr(pool, "connections", None), "_closed", False):
                    dict.__delitem__(group, key)
    app._pool = None
    app.amqp._producer_pool = None
