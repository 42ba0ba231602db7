"""`manage.py export_workspace <slug> > acme.json`: every row of one workspace (see pmhub/portability.py)."""

import json

from django.core.management.base import BaseCommand, CommandError

from pmhub.models import Workspace
from pmhub.portability import export_workspace


class Command(BaseCommand):
    help = "Write one workspace (all its rows, its members without passwords) as JSON to stdout."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug, **options):
        try:
            data = export_workspace(slug)
        except Workspace.DoesNotExist:
            raise CommandError(f"No workspace '{slug}'.")
        self.stdout.write(json.dumps(data, indent=1, ensure_ascii=False))
