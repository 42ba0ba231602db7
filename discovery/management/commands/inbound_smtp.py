"""Run the inbound SMTP listener: feedback mailed to `<token>@INBOUND_EMAIL_DOMAIN` lands in that
product's insights inbox (run it beside the worker, behind your MX or a relay)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Receive feedback e-mail for the products' inboxes (SMTP, see INBOUND_SMTP_BIND)."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=settings.INBOUND_SMTP_BIND, help="host:port (default %(default)s)")

    def handle(self, *args, bind, **options):
        from discovery.smtp import controller

        host, _, port = bind.rpartition(":")
        server = controller(host=host or "127.0.0.1", port=int(port))
        server.start()
        self.stdout.write(self.style.SUCCESS(f"Listening for feedback e-mail on {host}:{port} "
                                             f"(addresses @{settings.INBOUND_EMAIL_DOMAIN})"))
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            server.stop()
