"""A safe setup, enforced: a serving process (gunicorn/ASGI, the Celery worker and beat) refuses to
start with DEBUG off and a SECRET_KEY that is missing, the public development default, or weak,
and `manage.py check --deploy` reports it as an error. Management commands (migrate, makemigrations)
still run with the default key: they sign nothing. See docs/decisions/1203-safe-setup.md."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# The key settings.py falls back to: published in this repository, so anyone could forge sessions,
# password-reset and sign-up links, and share-link signatures with it.
PUBLIC_DEFAULT_SECRET_KEY = "django-insecure-pmhub-development-key-change-me"
MIN_SECRET_KEY_LENGTH = 40
MIN_SECRET_KEY_CHARACTERS = 10


def secret_key_problem(*, debug: bool, key: str) -> str | None:
    """Why this SECRET_KEY may not serve with this DEBUG, or None. DEBUG on (development) accepts any."""
    if debug:
        return None
    if not key:
        return "SECRET_KEY is not set"
    if key == PUBLIC_DEFAULT_SECRET_KEY or key.startswith("django-insecure") or "change-me" in key:
        return "SECRET_KEY is the public default (or the .env.example placeholder)"
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_CHARACTERS:
        return f"SECRET_KEY is too weak (use at least {MIN_SECRET_KEY_LENGTH} random characters)"
    return None


HOW_TO = ("Set SECRET_KEY to a long random value of your own, e.g. "
          "python -c 'import secrets; print(secrets.token_urlsafe(50))', or DEBUG=true for development.")


def require_safe_setup() -> None:
    """Called by pmhub/wsgi.py, pmhub/asgi.py and the Celery worker and beat as they start."""
    problem = secret_key_problem(debug=settings.DEBUG, key=settings.SECRET_KEY)
    if problem:
        raise ImproperlyConfigured(f"PMHub refuses to start with DEBUG off: {problem}. {HOW_TO}")


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key(app_configs=None, **kwargs):
    problem = secret_key_problem(debug=settings.DEBUG, key=settings.SECRET_KEY)
    return [checks.Error(problem, hint=HOW_TO, id="pmhub.E001")] if problem else []
