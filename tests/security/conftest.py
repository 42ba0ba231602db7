"""Security tests: fast password hashing (the suite signs many users in) and the fuzz option."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="schemathesis examples per API operation (make fuzz uses 500)")


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
