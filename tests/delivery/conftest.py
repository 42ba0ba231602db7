import pytest

from .factories import ProductFactory, ReleaseFactory


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def other_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Globex Product")


@pytest.fixture
def release(product):
    return ReleaseFactory(product=product, name="1.0")


@pytest.fixture
def named_admin(admin):
    admin.name = "Ada Admin"
    admin.save(update_fields=["name"])
    return admin


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Users are made per test; PBKDF2's deliberate slowness only costs time here."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
