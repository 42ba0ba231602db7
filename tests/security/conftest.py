"""Security tests: fast password hashing (the suite signs many users in), the fuzz option and
the mass-assignment tests' two-tenant fixtures."""

import pytest
from rest_framework.test import APIClient

from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory


def pytest_addoption(parser):
    parser.addoption("--fuzz-examples", type=int, default=None,
                     help="schemathesis examples per API operation (make fuzz uses 500)")


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def bridge(workspace, other_workspace):
    """An admin of both workspaces: every id of the other one is visible to them, so only a write's
    own checks keep the two tenants apart (the mass-assignment tests)."""
    user = UserFactory(email="bridge@acme.test")
    MembershipFactory(user=user, workspace=workspace, role=Role.ADMIN)
    MembershipFactory(user=user, workspace=other_workspace, role=Role.ADMIN)
    return user


@pytest.fixture
def bridge_api(bridge):
    client = APIClient()
    client.force_authenticate(bridge)
    return client


@pytest.fixture
def strangers(workspace, other_workspace):
    """One object of every kind in another product of our workspace, and in the other workspace."""
    from .massassign import foreign_world

    return [foreign_world(workspace), foreign_world(other_workspace)]
