"""What every PMHub process pays at start (settings, apps, URLconf, system checks): not the
libraries of a feature it may never use. pysaml2 (its XML schema, 0.4-0.6 s) is imported where a
SAML sign-in or metadata is handled (decision 2070); daphne with Twisted and Autobahn (0.15-0.2 s)
only by `manage.py runserver` (decision 2071)."""

import os
import subprocess
import sys

from django.core.management import get_commands, load_command_class

START = ("import sys, django; django.setup(); from django.urls import get_resolver; "
         "get_resolver().url_patterns; from django.core import checks; checks.run_checks(); "
         "print(sorted({m.split('.')[0] for m in sys.modules} & {'saml2', 'daphne', 'twisted', 'autobahn'}))")


def test_process_start_imports_neither_pysaml2_nor_daphne():
    done = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "pmhub.settings"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_runserver_is_daphnes():
    """`make run` serves ASGI (pages and the live websocket) with daphne, as with daphne's app listed."""
    from daphne.management.commands.runserver import Command as DaphneRunserver

    assert get_commands()["runserver"] == "pmhub.devserver"
    assert isinstance(load_command_class("pmhub.devserver", "runserver"), DaphneRunserver)
