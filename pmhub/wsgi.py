import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
application = get_wsgi_application()

from pmhub.checks import require_safe_setup  # noqa: E402 - settings must be loaded first

require_safe_setup()
