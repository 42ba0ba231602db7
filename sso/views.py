"""Pages: "Continue with SSO" (an e-mail, then the right provider), the refusal page, and the
workspace settings of identity providers and sign-in domains (workspace admins)."""

import logging

from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views import View

from pmhub.utils import safe_next

from . import services
from .forms import SsoEmailForm

log = logging.getLogger("pmhub.sso")


def refusal_page(request, *, code: str, message: str, provider=None, status: int = 403):
    """Every refused single sign-on ends here: a clear page and one log line, never a 500."""
    log.warning("sso.refused reason=%s provider=%s", code, getattr(provider, "pk", None))
    return render(request, "sso/refused.html", {"message": message, "code": code}, status=status)


class SsoStartView(View):
    """Step 1 of single sign-on: the person's work e-mail picks the workspace (by its verified
    domain) and the provider: one provider goes straight there, several are offered as a choice."""

    def _render(self, form, *, providers=(), status=200):
        return render(self.request, "sso/start.html", {
            "form": form, "providers": providers, "next": safe_next(self.request, "")}, status=status)

    def get(self, request):
        return self._render(SsoEmailForm(initial={"email": request.GET.get("email", "")[:254]}))

    def post(self, request):
        form = SsoEmailForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        email = form.cleaned_data["email"]
        providers = services.providers_for_email(email)
        if not providers:
            log.info("sso.refused reason=unknown_domain")
            form.add_error("email", services.SignInRefused.MESSAGES["unknown_domain"])
            return self._render(form, status=400)
        request.session["sso_login_hint"] = email
        next_path = safe_next(request, "")
        if len(providers) == 1:
            return redirect(_with_next(providers[0].login_path(), next_path))
        return self._render(form, providers=[(p, _with_next(p.login_path(), next_path)) for p in providers])


def _with_next(path: str, next_path: str) -> str:
    return f"{path}?{urlencode({'next': next_path})}" if next_path else path
