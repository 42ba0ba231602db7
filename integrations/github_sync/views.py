"""Inbound GitHub webhooks of Apps and issue syncs. No session or token: the credential is the
X-Hub-Signature-256 HMAC made with the App's (or the sync connection's) secret; the URL's token
only finds which one."""

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from . import services


class _GitHubHook(View):
    receive = None

    def post(self, request, hook_token):
        from integrations.services import WebhookRefused

        try:
            outcome = type(self).receive(
                hook_token=hook_token,
                event=request.headers.get("X-GitHub-Event", ""),
                delivery_id=request.headers.get("X-GitHub-Delivery", ""),
                signature=request.headers.get("X-Hub-Signature-256"),
                body=request.body,
            )
        except WebhookRefused as exc:
            return JsonResponse({"detail": exc.reason}, status=exc.status)
        return JsonResponse({"detail": outcome})


@method_decorator(csrf_exempt, name="dispatch")
class GitHubAppWebhookView(_GitHubHook):
    receive = staticmethod(services.app_delivery_receive)


@method_decorator(csrf_exempt, name="dispatch")
class GitHubIssuesWebhookView(_GitHubHook):
    receive = staticmethod(services.issues_delivery_receive)
