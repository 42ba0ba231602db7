"""`manage.py import_workspace acme.json`: load an export into a database that does not hold it yet."""

import json

from django.core.management.base import BaseCommand, CommandError

from pmhub.portability import ImportRefused, import_workspace


class Command(BaseCommand):
    help = "Load a workspace exported with export_workspace (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="the JSON file, or - for stdin")

    def handle(self, *args, path, **options):
        import sys

        try:
            data = json.load(sys.stdin) if path == "-" else json.load(open(path, encoding="utf-8"))  # noqa: SIM115
            counts = import_workspace(data)
        except (OSError, ValueError, ImportRefused) as e:
            raise CommandError(str(e))
        for label, n in sorted(counts.items()):
            self.stdout.write(f"{label}: {n}")
