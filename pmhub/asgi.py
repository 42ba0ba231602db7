"""ASGI entry point: the pages and API (Django) and the live websocket (Channels, docs/live.md).

Served by uvicorn workers under gunicorn (docker-compose.yml) or daphne (`manage.py runserver`
with daphne first in INSTALLED_APPS)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from pmhub.checks import require_safe_setup  # noqa: E402 - settings must be loaded first
from pmhub.consumers import LiveConsumer  # noqa: E402

require_safe_setup()

websocket_urlpatterns = [path("ws/live/", LiveConsumer.as_asgi())]

# The socket's Origin must be one of ALLOWED_HOSTS (no cross-site websocket hijacking with the
# session cookie), and the session signs the person in, as on the pages.
application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
})
