"""The inbound SMTP listener's handler (aiosmtpd): accept mail only for known product addresses,
store each message once per product and let the worker file it (services.inbound_email_receive).

Database work runs in a worker thread of the event loop (Django refuses ORM calls from a thread
with a running loop), and each call closes stale connections like a request would.
"""

import asyncio
import logging

from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


def _product_for(address: str):
    from .services import inbound_product_for

    close_old_connections()
    try:
        return inbound_product_for(address)
    finally:
        close_old_connections()


def _receive(product_ids: list[int], raw: bytes) -> int:
    from roadmaps.models import Product

    from .services import inbound_email_receive

    close_old_connections()
    try:
        stored = 0
        for product in Product.objects.filter(pk__in=product_ids):
            stored += inbound_email_receive(product=product, raw=raw) is not None
        return stored
    finally:
        close_old_connections()


class InboundHandler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        product = await asyncio.get_running_loop().run_in_executor(None, _product_for, address)
        if product is None:
            return "550 5.1.1 No such feedback address"
        envelope.rcpt_tos.append(address)
        envelope.product_ids = [*getattr(envelope, "product_ids", []), product.id]
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "replace")
        if len(raw) > settings.INBOUND_EMAIL_MAX_BYTES:
            return "552 5.3.4 Message too big"
        try:
            await asyncio.get_running_loop().run_in_executor(None, _receive, getattr(envelope, "product_ids", []),
                                                             raw)
        except Exception:  # the database is down: the sender retries later
            log.exception("inbound e-mail could not be stored")
            return "451 4.3.0 Try again later"
        return "250 Message accepted"


def controller(*, host: str, port: int):
    """An aiosmtpd Controller (a thread with its own loop) running InboundHandler."""
    from aiosmtpd.controller import Controller

    return Controller(InboundHandler(), hostname=host, port=port, server_hostname=settings.INBOUND_EMAIL_DOMAIN,
                      data_size_limit=settings.INBOUND_EMAIL_MAX_BYTES, ready_timeout=10)
