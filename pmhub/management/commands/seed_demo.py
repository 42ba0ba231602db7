"""Load a demo workspace. Idempotent: running it twice changes nothing."""

from importlib import import_module

from django.core.management.base import BaseCommand
from django.db import transaction

from pmhub.models import Activity, Membership, Role, User, Workspace

DEMO_EMAIL = "demo@pmhub.local"
DEMO_PASSWORD = "pmhub-demo-2026"
DEMO_WORKSPACE_SLUG = "acme"
TEAM = [
    ("pm@pmhub.local", "Priya PM", Role.EDITOR),
    ("eng@pmhub.local", "Eli Engineer", Role.EDITOR),
    ("ceo@pmhub.local", "Cleo CEO", Role.VIEWER),
]
# Each app may offer `<app>.demo.seed(workspace=..., users=...)`, itself idempotent.
APP_SEEDERS = ("roadmaps.demo", "backlog.demo", "metrics.demo", "adoption.demo", "delivery.demo", "discovery.demo",
               "reports.demo", "governance.demo", "integrations.demo", "sso.demo", "scim.demo")


class Command(BaseCommand):
    help = "Create (or keep) the demo workspace 'Acme' and its users."

    @transaction.atomic
    def handle(self, *args, **options):
        demo, created = User.objects.get_or_create(email=DEMO_EMAIL, defaults={"name": "Dana Demo"})
        if created:
            demo.set_password(DEMO_PASSWORD)
            demo.save(update_fields=["password"])
        workspace, ws_created = Workspace.objects.get_or_create(
            slug=DEMO_WORKSPACE_SLUG, defaults={"name": "Acme", "time_zone": "Europe/Berlin"}
        )
        Membership.objects.get_or_create(user=demo, workspace=workspace, defaults={"role": Role.ADMIN})
        users = {"demo": demo}
        for email, name, role in TEAM:
            user, made = User.objects.get_or_create(email=email, defaults={"name": name})
            if made:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
            Membership.objects.get_or_create(user=user, workspace=workspace, defaults={"role": role})
            users[email.split("@")[0]] = user
        if ws_created:
            Activity.objects.create(workspace=workspace, actor=demo, verb="created workspace",
                                    target_repr=workspace.name)
        for path in APP_SEEDERS:
            try:
                module = import_module(path)
            except ModuleNotFoundError:
                continue
            module.seed(workspace=workspace, users=users)
        self.stdout.write(self.style.SUCCESS(
            f"Demo workspace ready: sign in as {DEMO_EMAIL} / {DEMO_PASSWORD}"))
