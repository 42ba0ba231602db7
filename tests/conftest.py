"""Shared fixtures. A "tenant world": workspace A with an admin, editor and viewer, and
workspace B whose member (`outsider`) must see nothing of A."""

import os
import socketserver

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from rest_framework.test import APIClient

from pmhub.celery import app as celery_app
from pmhub.models import Role

from . import templatedb
from .factories import MembershipFactory, UserFactory, WorkspaceFactory, make_token

# Processes the tests start (a Celery worker, gunicorn) refuse the public default key with DEBUG off
# (pmhub/checks.py); they inherit this one through the environment, and this process signs with it
# too, so a link signed by the worker verifies here. Tests only: never a deployment's key.
TEST_SECRET_KEY = "tests-only-Wq3vN8xZ-key-of-the-pmhub-test-suite-7Lh2Rk5Tb"
if os.environ.setdefault("SECRET_KEY", TEST_SECRET_KEY) == TEST_SECRET_KEY:
    django_settings.SECRET_KEY = TEST_SECRET_KEY


# The HTTP servers the tests run in their own process (pytest-django's live server, the fake Jira and
# GitHub, the SAML IdP, receivers) send each answer's headers and body in separate writes. On a
# kept-alive connection the body then waited for the client's delayed ACK of the headers (Nagle's
# algorithm): 40 ms more per request (46 ms instead of 6 ms for /healthz). gunicorn sets TCP_NODELAY on
# its sockets; the test servers now do too (socketserver's own switch; docs/decisions/2333).
socketserver.StreamRequestHandler.disable_nagle_algorithm = True


# Between transactional tests the PostgreSQL test database is emptied with DELETE under TRUNCATE's
# locks instead of TRUNCATE of every table (tests/fastflush.py, docs/decisions/1990).
if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
    from . import fastflush

    fastflush.install()


# `make test` runs the browser tests beside phase 1 (tests/phases.sh), on test databases of their
# own: PMHUB_TEST_DB_SUFFIX=browser names them test_<name>_gw0_browser, ... (docs/decisions/2100).
@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    suffix = os.environ.get("PMHUB_TEST_DB_SUFFIX")
    if suffix:
        from pytest_django.fixtures import _set_suffix_to_test_databases

        _set_suffix_to_test_databases(suffix)


@pytest.fixture(scope="session")
def django_db_createdb(request, django_db_modify_db_settings, django_db_blocker):
    """--create-db under `make test`: this process's database is a fresh copy of the run's one migrated
    template (tests/templatedb.py), which Django then opens as an existing database."""
    createdb = request.config.getvalue("create_db")
    if templatedb.applies(createdb):
        with django_db_blocker.unblock():
            templatedb.clone_for_this_process()
        return False
    return createdb


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database commits without waiting for the disk (synchronous_commit off for the
    database, so for every connection to it: this process's, live servers', Celery workers',
    gunicorn's). A commit is visible to every other session at once either way; only a crash of
    the PostgreSQL server could lose the last ones, which no test makes (docs/decisions/2330).
    Autocommit writes, flushes and worker tests paid 1.5-2.5 ms of fsync per commit."""
    from django.db import connections

    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            name = connection.settings_dict["NAME"]
            with connection.cursor() as cursor:
                cursor.execute('ALTER DATABASE "{}" SET synchronous_commit TO off'.format(name.replace('"', '""')))
                cursor.execute("SET synchronous_commit TO off")


# With DATABASE_REPLICA_URL set, "replica" is a test mirror of "default" (pmhub/dbrouter.py) and
# every test may read it: transactional tests then read dashboards from it as production would
# (TestCase-style tests never do: the router keeps reads inside a transaction on the primary).
if "replica" in django_settings.DATABASES:
    from django.test import TransactionTestCase

    TransactionTestCase.databases = {"default", "replica"}


# The longest tests are dealt out first (the fuzzing shards, the integration tests that start
# worker processes, `make run`'s SQLite migration and demo in subprocesses, the browser sweep), so
# the parallel test processes (`--dist worksteal`) end together instead of one finishing a long
# test alone at the end. Only the order changes; no test depends on it.
SLOW_FIRST = ("tests/security/test_fuzz.py", "tests/integration/", "tests/core/test_embedded_default.py",
              "tests/e2e/test_sweep.py")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: 0 if item.nodeid.startswith(SLOW_FIRST) else 1)


@pytest.fixture(autouse=True)
def _isolated(request, settings):
    """Each test starts with an empty cache and eager Celery (integration tests opt out)."""
    cache.clear()
    eager = request.node.get_closest_marker("integration") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    settings.CELERY_TASK_ALWAYS_EAGER = eager
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Fixture users need no slow key stretching; production keeps Django's default hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield
    celery_app.conf.task_always_eager = previous
    cache.clear()


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(name="Acme", slug="acme")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(name="Globex", slug="globex")


def _member(workspace, role, email):
    user = UserFactory(email=email)
    MembershipFactory(user=user, workspace=workspace, role=role)
    return user


@pytest.fixture
def admin(workspace):
    return _member(workspace, Role.ADMIN, "admin@acme.test")


@pytest.fixture
def editor(workspace):
    return _member(workspace, Role.EDITOR, "editor@acme.test")


@pytest.fixture
def viewer(workspace):
    return _member(workspace, Role.VIEWER, "viewer@acme.test")


@pytest.fixture
def outsider(other_workspace):
    return _member(other_workspace, Role.ADMIN, "outsider@globex.test")


@pytest.fixture
def api():
    """An API client; call `api.force_authenticate(user)` or use `token_client`."""
    return APIClient()


@pytest.fixture
def api_as():
    """api_as(user) -> an APIClient authenticated with a read-write token of the user's first workspace."""

    def make(user, workspace=None, scope="write"):
        workspace = workspace or user.memberships.first().workspace
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {make_token(user=user, workspace=workspace, scope=scope)}")
        return client

    return make


@pytest.fixture
def client_as(client):
    """client_as(user) -> the Django test client signed in as the user (session auth, CSRF not enforced)."""

    def make(user):
        from django.test import Client

        c = Client()
        c.force_login(user)
        return c

    return make
