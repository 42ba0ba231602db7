"""PostgreSQL through pmhub/backends/postgresql (decision 2302): the connection health check
(CONN_HEALTH_CHECKS) sends nothing for an idle connection whose socket has nothing to read, and
still replaces a connection the server closed. Real database, a second connection of our own."""

import time

import pytest
from django.db import connections
from django.db.backends.postgresql import base as django_base

from tests.services import on_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not on_postgres(), reason="PostgreSQL only")]


@pytest.fixture
def own():
    """A connection of the default database apart from the test's (which holds its transaction)."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


@pytest.fixture
def round_trips(monkeypatch):
    """Calls of Django's own check (`SELECT 1`)."""
    calls = []
    real = django_base.DatabaseWrapper.is_usable
    monkeypatch.setattr(django_base.DatabaseWrapper, "is_usable", lambda self: calls.append(1) or real(self))
    return calls


def _other():
    import psycopg2

    settings = connections["default"].get_connection_params()
    other = psycopg2.connect(**settings)
    other.autocommit = True
    return other


def test_the_settings_run_postgresql_through_the_backend(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "pmhub.backends.postgresql"
    assert connections["default"].vendor == "postgresql"


def test_an_idle_quiet_connection_is_usable_without_a_round_trip(own, round_trips):
    with own.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert own.is_usable() is True
    assert round_trips == []


def test_a_connection_the_server_ended_is_replaced_before_the_request_queries(own, round_trips):
    pid = own.connection.info.backend_pid
    other = _other()
    try:
        other.cursor().execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    time.sleep(0.2)  # the FATAL message and the close reach the socket
    own.health_check_done = False  # as at the start of a request (close_if_unusable_or_obsolete)
    with own.cursor() as cursor:  # the check runs before the first query, fails, reconnects
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid
    assert round_trips == [1]  # the socket had something to read: Django's check decided


def test_something_to_read_on_a_healthy_connection_gets_the_real_check(own, round_trips):
    with own.cursor() as cursor:
        cursor.execute("LISTEN pmhub_backend_test")
    other = _other()
    try:
        other.cursor().execute("NOTIFY pmhub_backend_test")
    finally:
        other.close()
    time.sleep(0.2)
    assert own.is_usable() is True
    assert round_trips == [1]


def test_a_closed_or_busy_connection_is_not_taken_for_usable(own, round_trips):
    own.connection.autocommit = False
    with own.connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # a transaction left open: not idle
    assert own.is_usable() is True and round_trips == [1]
    own.connection.rollback()
    own.connection.close()
    assert own.is_usable() is False
