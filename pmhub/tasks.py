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


@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def send_signup_email(self, email: str, name: str, next_path: str = "") -> str:
    """Sign-up's e-mail: a link to finish for a new address; for an address that has an account, a
    note with the sign-in and password-reset links (the page said the same in both cases)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from .models import User
    from .services import signup_token

    query = f"?{urlencode({'next': next_path})}" if next_path else ""
    existing = User.objects.filter(email__iexact=email, is_active=True).exists()
    if existing:
        template, subject = "emails/signup_existing", "You already have a PMHub account"
        context = {"login_url": f"{settings.SITE_URL}{reverse('login')}{query}",
                   "reset_url": f"{settings.SITE_URL}{reverse('password_reset')}"}
    else:
        template, subject = "emails/signup", "Finish creating your PMHub account"
        token = signup_token(email=email, name=name)
        context = {"url": f"{settings.SITE_URL}{reverse('signup_confirm', args=[token])}{query}",
                   "days": max(settings.SIGNUP_LINK_MAX_AGE // 86400, 1)}
    message = EmailMultiAlternatives(subject=mail_subject(subject), body=render_to_string(f"{template}.txt", context),
                                     to=[email])
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    message.send()
    return "existing" if existing else "sent"


@shared_task(ignore_result=True)
def api_schema_warm() -> list[str]:
    """Render the API document into the shared cache (queued once by each worker as it boots), so
    the first /api/docs/ visit after a deploy does not wait for drf-spectacular (decision 1421)."""
    from pmhub.api.schema_view import schema_warm

    return schema_warm()
