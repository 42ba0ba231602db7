"""Pages: "Continue with SSO" (an e-mail, then the right provider), the refusal page, and the
workspace settings of identity providers and sign-in domains (workspace admins)."""

import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import safe_next, version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import selectors, services
from .forms import DomainForm, ProviderForm, SsoEmailForm, group_roles_text
from .models import IdentityProvider

log = logging.getLogger("pmhub.sso")


def refusal_page(request, *, code: str, message: str, provider=None, status: int = 403):
    """Every refused single sign-on ends here: a clear page and one log line, never a 500."""
    log.warning("sso.refused reason=%s provider=%s", code, getattr(provider, "pk", None))
    return render(request, "sso/refused.html", {"message": message, "code": code}, status=status)


def start_page_policy() -> str:
    """The site's Content-Security-Policy with a wider `form-action` for this page only: browsers
    apply form-action to every redirect that follows a form's submission, and this form's answer
    redirects to the identity provider (another origin, known only once the e-mail is typed). Any
    https origin may be reached, plus the http origins of enabled providers (only hosts the
    operator allowed in OUTBOUND_ALLOWED_HOSTS can be saved with http://). The form's own action
    is fixed and nothing else on the page posts."""
    origins = set()
    for issuer in (IdentityProvider.objects.filter(enabled=True, issuer__startswith="http://")
                   .values_list("issuer", flat=True)[:50]):
        parts = urlsplit(issuer)
        if parts.hostname:
            origins.add(f"http://{parts.netloc}")
    from .saml_services import saml_http_sso_origins  # SAML: the IdP's sign-in address, from its metadata

    origins |= saml_http_sso_origins()
    extra = " ".join(["https:", *sorted(origins)])
    return settings.CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {extra}")


class SsoStartView(View):
    """Step 1 of single sign-on: the person's work e-mail picks the workspace (by its verified
    domain) and the provider: one provider goes straight there, several are offered as a choice."""

    def _render(self, form, *, providers=(), status=200):
        response = render(self.request, "sso/start.html", {
            "form": form, "providers": providers, "next": safe_next(self.request, "")}, status=status)
        response["Content-Security-Policy"] = start_page_policy()
        return response

    def get(self, request):
        return self._render(SsoEmailForm(initial={"email": request.GET.get("email", "")[:254]}))

    def post(self, request):
        form = SsoEmailForm(request.POST)
        if not form.is_valid():
            return self._render(form, status=400)
        email = form.cleaned_data["email"]
        providers = [p for p in services.providers_for_email(email) if p.login_path()]
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


# --- workspace settings: identity providers and sign-in domains (admins) ------------------------

PROVIDER_DATA = ["name", "protocol", "enabled", "issuer", "client_id", "scopes", "groups_claim", "metadata_url",
                 "metadata_xml", "entity_id", "default_role", "group_roles", "jit_enabled",
                 "email_attribute", "name_attribute"]


class ProvidersView(WorkspacePageMixin, View):
    """The workspace's identity providers (list and add) with its sign-in domains."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        return render(self.request, "sso/providers.html", self.get_context_data(
            providers=selectors.providers_for_admin(user=self.request.user, workspace_id=self.workspace.id),
            domains=selectors.domains_for_admin(user=self.request.user, workspace_id=self.workspace.id),
            form=form), status=status)

    def get(self, request, ws):
        return self._render(ProviderForm())

    def post(self, request, ws):
        form = ProviderForm(request.POST)
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in PROVIDER_DATA}
            try:
                provider = services.provider_create(user=request.user, workspace_id=self.workspace.id, data=data,
                                                    client_secret=form.cleaned_data["client_secret"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Identity provider {provider.name} added. Register its callback URL "
                                          "at the provider, then verify a domain.")
                return redirect("sso_admin:provider", ws=ws, provider_id=provider.id)
        return self._render(form, status=400)


class ProviderView(WorkspacePageMixin, View):
    """One provider: edit (optimistic locking), disable, delete; its callback URL and linked people."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _provider(self, provider_id):
        return selectors.provider_for_admin(user=self.request.user, provider_id=provider_id,
                                            workspace_id=self.workspace.id)

    def _render(self, provider, form, status=200):
        return render(self.request, "sso/provider.html", self.get_context_data(
            provider=provider, object=provider, form=form, callback_url=provider.callback_url(),
            identities=selectors.identities_of(provider=provider)), status=status)

    def get(self, request, ws, provider_id):
        provider = self._provider(provider_id)
        initial = {k: getattr(provider, k) for k in PROVIDER_DATA}
        initial["group_roles"] = group_roles_text(provider.group_roles)
        return self._render(provider, ProviderForm(initial=initial, editing=True))

    def post(self, request, ws, provider_id):
        provider = self._provider(provider_id)
        if request.POST.get("action") == "delete":
            services.provider_delete(user=request.user, provider=provider)
            messages.success(request, f"Identity provider {provider.name} deleted.")
            return redirect("sso_admin:providers", ws=ws)
        form = ProviderForm(request.POST, editing=True)
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in PROVIDER_DATA}
            try:
                services.provider_update(user=request.user, provider=provider, data=data,
                                         expected_version=version_read(request.POST.get("version")),
                                         client_secret=form.cleaned_data["client_secret"])
            except Conflict:
                form_conflict(form, "identity provider")
                return self._render(provider, form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Identity provider saved.")
                return redirect("sso_admin:provider", ws=ws, provider_id=provider.id)
        return self._render(provider, form, status=400)


class DomainsView(WorkspacePageMixin, View):
    """Sign-in domains: claim one, then verify it with a DNS TXT record."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        return render(self.request, "sso/domains.html", self.get_context_data(
            domains=selectors.domains_for_admin(user=self.request.user, workspace_id=self.workspace.id),
            form=form), status=status)

    def get(self, request, ws):
        return self._render(DomainForm())

    def post(self, request, ws):
        form = DomainForm(request.POST)
        if form.is_valid():
            try:
                domain = services.domain_create(user=request.user, workspace_id=self.workspace.id,
                                                domain=form.cleaned_data["domain"],
                                                require_sso=form.cleaned_data["require_sso"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Domain {domain.domain} added. Publish its TXT record, then verify it.")
                return redirect("sso_admin:domain", ws=ws, domain_id=domain.id)
        return self._render(form, status=400)


class DomainView(WorkspacePageMixin, View):
    """One domain: its TXT record, Verify, require SSO on or off, delete."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request, ws, domain_id):
        domain = selectors.domain_for_admin(user=request.user, domain_id=domain_id, workspace_id=self.workspace.id)
        return render(request, "sso/domain.html", self.get_context_data(domain=domain, object=domain))

    def post(self, request, ws, domain_id):
        domain = selectors.domain_for_admin(user=request.user, domain_id=domain_id, workspace_id=self.workspace.id)
        action = request.POST.get("action", "")
        try:
            if action == "verify":
                services.domain_verify(user=request.user, domain=domain)
                messages.success(request, f"Domain {domain.domain} verified.")
            elif action in ("require", "allow_passwords"):
                services.domain_update(user=request.user, domain=domain, require_sso=action == "require",
                                       expected_version=version_read(request.POST.get("version")))
                messages.success(request, "Passwords are now refused for this domain." if action == "require"
                                 else "Passwords are allowed again for this domain.")
            elif action == "delete":
                services.domain_delete(user=request.user, domain=domain)
                messages.success(request, f"Domain {domain.domain} removed.")
                return redirect("sso_admin:domains", ws=ws)
            else:
                messages.error(request, "Choose an action.")
        except Conflict:
            messages.error(request, "Someone else changed this domain meanwhile; look again and retry.")
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        return redirect("sso_admin:domain", ws=ws, domain_id=domain.id)
