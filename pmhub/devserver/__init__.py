"""`manage.py runserver` served by daphne (ASGI: the pages and the live websocket), without
daphne's app in INSTALLED_APPS: its AppConfig imports daphne.server, and with it Twisted and
Autobahn (0.15-0.2 s idle), at every start of every PMHub process, the web and worker processes of a
deployment (gunicorn, uvicorn, celery) and each test process included, none of which runs daphne.
Listed before django.contrib.staticfiles so that its runserver is the one Django picks, as daphne's
was. Decision 2071."""
