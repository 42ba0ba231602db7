import pytest

from tests.integrations.receiver import ChatReceiver


@pytest.fixture
def chat(settings):
    # The receiver is on loopback: allowed by the operator's allowlist (tests only), as for webhooks.
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    r = ChatReceiver()
    yield r
    r.close()


@pytest.fixture
def eager_retries(monkeypatch):
    """Eager Celery as in production: a failed delivery is logged on its row, not raised to the caller."""
    from pmhub.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
