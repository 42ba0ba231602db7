import pytest

from .factories import KpiFactory, ProductFactory


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def foreign_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Globex Radar")


@pytest.fixture
def kpi(product, editor):
    return KpiFactory(product=product, name="Signups", owner=editor)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The shared fixtures create several users per test; hashing them with PBKDF2 dominates run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clock():
    """Measurements are checked against "today" (nothing dated after it): one frozen clock for
    every metrics test, a few days after the dates the tests record. Tests that need another
    moment travel inside it."""
    from datetime import UTC, datetime

    import time_machine

    with time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False):
        yield
