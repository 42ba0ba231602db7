"""Core Celery tasks: thin, idempotent, ids only."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Invitation
from .utils import mail_subject


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_invitation_email(self, invitation_id: int, raw_key: str) -> str:
    """E-mail the invitation link. Skips an invitation that was accepted or revoked meanwhile."""
    invitation = Invitation.objects.select_related("workspace", "invited_by").filter(id=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return "skipped"
    context = {
        "invitation": invitation,
        "url": f"{settings.SITE_URL}/invitations/{raw_key}/",
        "now": timezone.now(),
    }
    message = EmailMultiAlternatives(
        subject=mail_subject(f"You are invited to {invitation.workspace.name} on PMHub"),
        body=render_to_string("emails/invitation.txt", context),
        to=[invitation.email],
    )
    message.attach_alternative(render_to_string("emails/invitation.html", context), "text/html")
    message.send()
    return "sent"
