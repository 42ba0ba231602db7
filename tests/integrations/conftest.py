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


@pytest.fixture
def fake_jira(settings):
    """A stateful fake Jira Cloud on 127.0.0.1 (allowed by the test-only outbound allowlist); the
    test fails if anything it received or answered is not in Jira's published OpenAPI description."""
    from tests.integrations.fake_jira import FakeJira

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    fake = FakeJira()
    yield fake
    fake.close()
    assert not fake.violations, "the fake Jira saw requests or gave answers outside Jira's API:\n" + \
        "\n".join(fake.violations[:10])


@pytest.fixture
def fake_jira_dc(settings):
    """A stateful fake Jira Data Center (REST v2, personal access token, wiki markup, usernames),
    checked against the Data Center description in tests/integrations/data/."""
    from tests.integrations.fake_jira import FakeJira

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    fake = FakeJira(kind="dc")
    yield fake
    fake.close()
    assert not fake.violations, "the fake Jira Data Center saw requests or gave answers outside its API:\n" + \
        "\n".join(fake.violations[:10])


@pytest.fixture
def fake_github(settings):
    """A stateful fake GitHub REST API on 127.0.0.1; the test fails if anything it received or
    answered is not in GitHub's published REST description."""
    from tests.integrations.fake_github import FakeGitHub

    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    fake = FakeGitHub()
    yield fake
    fake.close()
    assert not fake.violations, "the fake GitHub saw requests or gave answers outside GitHub's API:\n" + \
        "\n".join(fake.violations[:10])
