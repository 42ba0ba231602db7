"""daphne's runserver, imported only when it runs (see pmhub/devserver/__init__.py)."""

from daphne.management.commands.runserver import Command  # noqa: F401
