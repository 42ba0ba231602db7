"""Backlog fixtures: a product in workspace "acme" and one in "globex"."""

import pytest

from roadmaps.models import Product

from .factories import make_stories


@pytest.fixture
def product(workspace):
    return Product.objects.create(workspace=workspace, name="Acme Analytics")


@pytest.fixture
def foreign_product(other_workspace):
    return Product.objects.create(workspace=other_workspace, name="Globex Product")


@pytest.fixture
def stories(product, admin):
    return make_stories(product, 5, actor=admin)


@pytest.fixture
def foreign_story(foreign_product, outsider):
    return make_stories(foreign_product, 1, actor=outsider)[0]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The fixtures create several users per test; PBKDF2 at full strength would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
