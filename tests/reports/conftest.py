import pytest

from tests.factories import MembershipFactory, UserFactory

from .factories import ProductFactory
from .smtp import RecordingHandler, SmtpServer


@pytest.fixture
def product(workspace):
    return ProductFactory(workspace=workspace, name="Rocket")


@pytest.fixture
def foreign_product(other_workspace):
    return ProductFactory(workspace=other_workspace, name="Secret")


@pytest.fixture
def smtp(settings):
    """A real SMTP server; Django's SMTP backend points at it."""
    server = SmtpServer(RecordingHandler()).start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS, settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD = False, "", ""
    settings.EMAIL_TIMEOUT = 5
    yield server.handler
    server.stop()


@pytest.fixture
def member(workspace):
    user = UserFactory(email="member@acme.test")
    MembershipFactory(user=user, workspace=workspace)
    return user


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
