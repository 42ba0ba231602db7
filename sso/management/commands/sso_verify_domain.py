"""Verify a sign-in domain from the command line (docs/sso.md, "Verifying a domain").

    manage.py sso_verify_domain acme.com --workspace acme           # looks the TXT record up
    manage.py sso_verify_domain acme.com --workspace acme --force   # no DNS: the operator vouches
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sso.models import SsoDomain
from sso.services import domain_normalise, domain_verify_by_operator


class Command(BaseCommand):
    help = "Mark a workspace's claimed sign-in domain as verified (by its DNS TXT record, or --force)."

    def add_arguments(self, parser):
        parser.add_argument("domain")
        parser.add_argument("--workspace", required=True, help="The workspace's slug.")
        parser.add_argument("--force", action="store_true",
                            help="Skip the DNS lookup (you checked the domain's ownership yourself).")

    def handle(self, *args, domain, workspace, force, **options):
        try:
            name = domain_normalise(domain)
            row = SsoDomain.objects.get(workspace__slug=workspace, domain=name)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except SsoDomain.DoesNotExist:
            raise CommandError(f"Workspace {workspace!r} has not claimed {domain!r}: "
                               "add it in its settings first.") from None
        try:
            domain_verify_by_operator(domain=row, check_dns=not force)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"{name} is verified for workspace {workspace}."))
