"""Core pages: home, workspaces, members and invitations, activity, API tokens, notifications."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import LoginView, LogoutView, PasswordResetConfirmView, PasswordResetView
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views import View
from django.views.decorators.cache import cache_control

from . import selectors, services
from .access import role_in, workspace_ids_for
from .errors import Conflict
from .forms import (
    ApiTokenForm,
    InvitationForm,
    RoleForm,
    SignUpForm,
    SignUpPasswordForm,
    ThrottledAuthenticationForm,
    ThrottledPasswordResetForm,
    WorkspaceForm,
    login_failures_clear,
)
from .home import home_panels
from .models import ApiToken, BackgroundJob, Invitation, Membership, Role
from .search import MAX_QUERY_LENGTH, search, search_words
from .signin import password_refusal, sign_in_options
from .utils import safe_next, version_read

SESSION_WORKSPACE = "pmhub_workspace"


def form_errors_from(exc: ValidationError, form) -> None:
    """Copy a service's ValidationError onto a form, so the page shows field errors."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_conflict(form, what: str) -> None:
    """A page form sent a stale or missing version (pmhub.utils.version_read): say so above the
    form, which keeps what the person typed; the view answers 409."""
    form.add_error(None, f"Someone else changed this {what} since you opened the page. Reload the page to see "
                         "the current version, then make your change again.")


class WorkspacePageMixin(LoginRequiredMixin):
    """Resolve `ws` (slug) from the user's memberships: a non-member gets 404.

    Deny by default: a view sets `required_role` (to see the page) and `write_role` (to POST);
    a view that sets neither refuses every request.
    """

    required_role: int | None = None
    write_role: int | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        known = getattr(request, "workspace", None)  # set by ProductPageMixin from the product's row
        if known is not None and known.slug == kwargs["ws"] and known.id in workspace_ids_for(request.user):
            self.workspace = known
        else:
            self.workspace = selectors.workspace_for_user(user=request.user, slug=kwargs["ws"])
        request.workspace = self.workspace
        if request.session.get(SESSION_WORKSPACE) != self.workspace.slug:
            request.session[SESSION_WORKSPACE] = self.workspace.slug  # written only on change
        self.role = role_in(request.user, self.workspace.id)
        needed = self.write_role if request.method not in ("GET", "HEAD", "OPTIONS") else self.required_role
        if needed is None:
            if self.required_role is None and self.write_role is None:
                raise ImproperlyConfigured(f"{type(self).__name__} declares no role.")
            return HttpResponseNotAllowed(["GET"] if self.write_role is None else ["GET", "POST"])
        if self.role < needed:
            raise PermissionDenied("Your role in this workspace does not allow this.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = {"workspace": self.workspace, "role": self.role, "can_edit": self.role >= Role.EDITOR,
                   "is_admin": self.role >= Role.ADMIN}
        context.update(kwargs)
        return context


class PMHubLoginView(LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_redirect_url(self):
        return safe_next(self.request, "")  # a local path only (Django's check lets "evil.example" by)

    def get_context_data(self, **kwargs):
        # Other ways to sign in (the sso app's "Continue with SSO"), registered in pmhub.signin.
        return super().get_context_data(sign_in_options=sign_in_options(), **kwargs)


class PMHubLogoutView(LogoutView):
    def get_redirect_url(self):
        return safe_next(self.request, "")


class PMHubPasswordResetView(PasswordResetView):
    """Django's reset form with limits per client address and per e-mail address (ThrottledPasswordResetForm)."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 429 if getattr(form, "throttled", False) else 400
        return response


class PMHubPasswordResetConfirmView(PasswordResetConfirmView):
    """A password reset signs its owner in and clears the account's failed sign-ins: whoever
    hammers an account's sign-in can delay its owner, never lock them out."""

    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        reason = password_refusal(form.user)  # SSO required for this account (pmhub.signin): no password
        if reason:
            form.add_error(None, reason)
            return self.form_invalid(form)
        response = super().form_valid(form)
        login_failures_clear(username=form.user.email)
        messages.success(self.request, "Your password is set and you are signed in.")
        return response


def signup(request):
    """Step 1: name and e-mail. The answer is the same page whether the address has an account or
    not; the worker mails either a link to finish (new address) or a note with the sign-in and
    reset links (existing account). See docs/decisions/1202-sign-in-abuse.md."""
    if request.user.is_authenticated:
        return redirect("home")
    next_path = safe_next(request, "")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.signup_request(email=form.cleaned_data["email"], name=form.cleaned_data["name"], next_path=next_path)
        return render(request, "registration/signup_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "registration/signup.html", {"form": form, "next": next_path},
                  status=400 if request.method == "POST" else 200)


def signup_confirm(request, token):
    """Step 2, from the e-mailed link: choose a password; the account is created and signed in."""
    data = services.signup_token_read(token)
    if data is None:
        return render(request, "registration/signup_invalid.html", status=400)
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpPasswordForm(request.POST or None, email=data["email"])
    if request.method == "POST" and form.is_valid():
        user = services.signup_complete(email=data["email"], name=data["name"], password=form.cleaned_data["password"])
        if user is None:  # the link was used already, or the address got an account meanwhile
            messages.info(request, "This e-mail address already has an account. Sign in, or reset your password.")
            return redirect("login")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(safe_next(request, reverse("home")))
    return render(request, "registration/signup_confirm.html",
                  {"form": form, "email": data["email"], "next": safe_next(request, "")},
                  status=400 if request.method == "POST" else 200)


def home(request):
    """Go to the workspace used last, else the first, else offer to create one."""
    if not request.user.is_authenticated:
        return redirect("login")
    ids = workspace_ids_for(request.user)
    workspaces = selectors.workspaces_for_user(user=request.user)
    last = request.session.get(SESSION_WORKSPACE)
    target = next((w for w in workspaces if w.slug == last), None) or (workspaces[0] if ids else None)
    if target is None:
        return redirect("workspace_create")
    return redirect("workspace_home", ws=target.slug)


class WorkspaceCreateView(LoginRequiredMixin, View):
    def get(self, request):
        return render(request, "pmhub/workspace_form.html", {"form": WorkspaceForm()})

    def post(self, request):
        form = WorkspaceForm(request.POST)
        if form.is_valid():
            try:
                workspace = services.workspace_create(user=request.user, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Workspace “{workspace.name}” created.")
                return redirect("workspace_home", ws=workspace.slug)
        return render(request, "pmhub/workspace_form.html", {"form": form}, status=400)


class WorkspaceHomeView(WorkspacePageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, ws):
        context = self.get_context_data(
            panels=home_panels(request, self.workspace),
            activities=selectors.recent_activity(workspace=self.workspace, limit=15),
        )
        return render(request, "pmhub/workspace_home.html", context)


class WorkspaceSettingsView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request, ws):
        form = WorkspaceForm(initial={"name": self.workspace.name, "time_zone": self.workspace.time_zone})
        return render(request, "pmhub/workspace_settings.html", self.get_context_data(form=form))

    def post(self, request, ws):
        form = WorkspaceForm(request.POST)
        if form.is_valid():
            try:
                version = version_read(request.POST.get("version"))
                services.workspace_update(user=request.user, workspace=self.workspace, **form.cleaned_data,
                                          version=version)
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "workspace")
                return render(request, "pmhub/workspace_settings.html", self.get_context_data(form=form), status=409)
            else:
                messages.success(request, "Workspace settings saved.")
                return redirect("workspace_settings", ws=self.workspace.slug)
        return render(request, "pmhub/workspace_settings.html", self.get_context_data(form=form), status=400)


class MembersView(WorkspacePageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.ADMIN

    def _context(self, form=None):
        return self.get_context_data(
            members=selectors.members_of(workspace=self.workspace),
            invitations=selectors.invitations_open(workspace=self.workspace) if self.role >= Role.ADMIN else [],
            form=form or InvitationForm(),
            role_choices=Role.choices,
        )

    def get(self, request, ws):
        return render(request, "pmhub/members.html", self._context())

    def post(self, request, ws):
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                services.invitation_create(user=request.user, workspace=self.workspace, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
                return redirect("members", ws=self.workspace.slug)
        return render(request, "pmhub/members.html", self._context(form), status=400)


class MemberRoleView(WorkspacePageMixin, View):
    write_role = Role.ADMIN

    def post(self, request, ws, membership_id):
        membership = get_object_or_404(Membership, id=membership_id, workspace=self.workspace)
        form = RoleForm(request.POST)
        try:
            if not form.is_valid():
                raise ValidationError({"role": "Choose viewer, editor or admin."})
            services.membership_set_role(user=request.user, membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user} is now {Role(membership.role).label.lower()}.")
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        return redirect("members", ws=self.workspace.slug)


class MemberRemoveView(WorkspacePageMixin, View):
    write_role = Role.VIEWER  # anyone may leave; removing someone else needs admin (service checks)

    def post(self, request, ws, membership_id):
        membership = get_object_or_404(Membership, id=membership_id, workspace=self.workspace)
        try:
            services.membership_remove(user=request.user, membership=membership)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return redirect("members", ws=self.workspace.slug)
        if membership.user_id == request.user.id:
            messages.success(request, f"You left {self.workspace.name}.")
            return redirect("home")
        messages.success(request, f"{membership.user} was removed.")
        return redirect("members", ws=self.workspace.slug)


class InvitationRevokeView(WorkspacePageMixin, View):
    write_role = Role.ADMIN

    def post(self, request, ws, invitation_id):
        invitation = get_object_or_404(Invitation, id=invitation_id, workspace=self.workspace)
        services.invitation_revoke(user=request.user, invitation=invitation)
        messages.success(request, f"Invitation to {invitation.email} revoked.")
        return redirect("members", ws=self.workspace.slug)


class ActivityView(WorkspacePageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, ws):
        return render(request, "pmhub/activity.html", self.get_context_data(
            activities=selectors.activity_for_workspace(workspace=self.workspace, limit=200)))


def invitation_accept(request, key):
    invitation = services.invitation_by_key(key)
    if invitation is None:
        raise Http404("Unknown invitation.")
    if not request.user.is_authenticated:
        return render(request, "pmhub/invitation.html", {"invitation": invitation, "key": key})
    if request.method == "POST":
        try:
            services.invitation_accept(user=request.user, raw_key=key)
        except (ValidationError, PermissionDenied) as e:
            messages.error(request, " ".join(getattr(e, "messages", [str(e)])))
            return redirect("home")
        messages.success(request, f"Welcome to {invitation.workspace.name}.")
        return redirect("workspace_home", ws=invitation.workspace.slug)
    return render(request, "pmhub/invitation.html", {"invitation": invitation, "key": key})


class ApiTokensView(LoginRequiredMixin, View):
    def _context(self, form=None, new_key=None):
        return {
            "tokens": selectors.api_tokens_of(user=self.request.user),
            "form": form or ApiTokenForm(workspaces=selectors.workspaces_for_user(user=self.request.user)),
            "new_key": new_key,
        }

    def get(self, request):
        return render(request, "pmhub/api_tokens.html", self._context())

    def post(self, request):
        form = ApiTokenForm(request.POST, workspaces=selectors.workspaces_for_user(user=request.user))
        if form.is_valid():
            try:
                _, raw = services.api_token_create(user=request.user, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                # Shown once, on this response only; only its hash is stored.
                return render(request, "pmhub/api_tokens.html", self._context(new_key=raw))
        return render(request, "pmhub/api_tokens.html", self._context(form=form), status=400)


class ApiTokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, token_id):
        token = get_object_or_404(ApiToken, id=token_id, user=request.user)
        services.api_token_revoke(user=request.user, token=token)
        messages.success(request, f"Token “{token.name}” revoked.")
        return redirect("api_tokens")


class NotificationsView(LoginRequiredMixin, View):
    def get(self, request):
        items = selectors.notifications_for(user=request.user).select_related("workspace")[:100]
        return render(request, "pmhub/notifications.html", {"notifications": items})

    def post(self, request):
        services.notifications_mark_read(user=request.user)
        messages.success(request, "All notifications marked as read.")
        return redirect("notifications")


class JobProgressView(LoginRequiredMixin, View):
    """htmx partial polled by pages that started background work."""

    def get(self, request, job_id):
        job = get_object_or_404(BackgroundJob, id=job_id, workspace_id__in=workspace_ids_for(request.user))
        return render(request, "pmhub/_job_progress.html", {"job": job})


def api_docs_redirect(request):
    return redirect(reverse("swagger-ui"))


@cache_control(max_age=86400, public=True)
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page's <link rel=icon> says: answer 200 with our
    icon (SVG, which every current browser takes as a favicon), from our own static files."""
    from pathlib import Path

    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.http import FileResponse

    path = finders.find("img/pmhub.svg") or Path(settings.STATIC_ROOT) / "img" / "pmhub.svg"
    return FileResponse(open(path, "rb"), content_type="image/svg+xml")  # noqa: SIM115 - FileResponse closes it


def healthz(request):
    """Liveness and database readiness for the container health check."""
    from django.db import connection
    from django.http import JsonResponse

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class SearchView(LoginRequiredMixin, View):
    """`/search/?q=`: everything matching in the user's workspaces, grouped by kind. With
    `?palette=1` (the header box and the Ctrl/Cmd+K palette, through htmx) only the options of
    the listbox, five per kind."""

    def get(self, request):
        q = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
        if request.GET.get("palette"):
            hits = search(user=request.user, q=q, per_kind=5)
            return render(request, "pmhub/_search_options.html", {"hits": hits[:15], "q": q})
        hits = search(user=request.user, q=q, per_kind=20)
        groups = {}
        for hit in hits:
            groups.setdefault(hit.label, []).append(hit)
        return render(request, "pmhub/search.html", {"q": q, "hits": hits, "groups": groups,
                                                      "has_words": bool(search_words(q))})


class LivePollView(WorkspacePageMixin, View):
    """The live updates' fallback when a websocket cannot be opened (a proxy that drops upgrades):
    the page asks every few seconds for the events after the last sequence number it saw. The same
    thin events as the socket (pmhub.live), without those the asking tab made itself; `reload`
    when the page is further behind than the buffer reaches. Without `since` it answers the current
    sequence number and no events (where a new poller starts)."""

    required_role = Role.VIEWER

    def get(self, request, ws):
        from django.http import JsonResponse

        from .live import event_log, for_client, tab_from_request

        journal = event_log()
        if "since" not in request.GET:
            response = JsonResponse({"seq": journal.current(self.workspace.id), "reload": False, "events": []})
            response["Cache-Control"] = "no-store"
            return response
        try:
            since = int(request.GET["since"])
        except ValueError:
            return JsonResponse({"detail": "since must be a sequence number."}, status=400)
        tab = tab_from_request(request)
        missed = journal.since(self.workspace.id, since)
        current = journal.current(self.workspace.id)
        response = JsonResponse({"seq": current, "reload": True, "events": []} if missed is None else {
            "seq": max([current] + [e["seq"] for e in missed]), "reload": False,
            "events": [for_client(e) for e in missed if not (tab and e.get("tab") == tab)]})
        response["Cache-Control"] = "no-store"
        return response
