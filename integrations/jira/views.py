"""Pages of the Jira integration (workspace admins): the connections (list + add), one connection
(health, webhook URL, test, edit, project links, sync log with retry), one project link (field
rules, status map, import preview and run, push of existing stories)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import provider, selectors, services
from .forms import JiraConnectionForm, JiraImportForm, JiraLinkForm, JiraLinkSettingsForm
from .models import JiraConnection


def _products(workspace):
    from roadmaps.models import Product

    return list(Product.objects.alive().filter(workspace=workspace).order_by("name"))


def _product(workspace, product_id):
    from roadmaps.selectors import product_of_workspace

    return product_of_workspace(workspace, product_id)


def _workflow(product):
    from backlog.services import workflow_of

    return workflow_of(product)


def _hook_url(connection) -> str:
    name = "github_issues_webhook" if connection.kind == JiraConnection.Kind.GITHUB else "jira_webhook"
    return settings.SITE_URL + reverse(name, kwargs={"hook_token": connection.hook_token})


def _messages_of(e: ValidationError) -> str:
    return " ".join(m for msgs in e.message_dict.values() for m in msgs) if hasattr(e, "error_dict") else \
        " ".join(e.messages)


class JiraConnectionListView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        return render(self.request, "integrations/jira_connections.html", self.get_context_data(
            connections=selectors.connections_for_user(user=self.request.user, workspace_id=self.workspace.id),
            form=form), status=status)

    def get(self, request, ws):
        return self._render(JiraConnectionForm())

    def post(self, request, ws):
        form = JiraConnectionForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                connection, secret = services.connection_create(
                    user=request.user, workspace=self.workspace, kind=data["kind"], name=data["name"],
                    base_url=data["base_url"], email=data["email"], token=data["token"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                # The webhook secret is shown on this response only.
                connection = selectors.connection_for_user(user=request.user, connection_id=connection.id)
                return JiraConnectionDetailView.show(self, connection, secret=secret, status=201)
        return self._render(form, status=400)


class JiraConnectionDetailView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    @staticmethod
    def show(view, connection, *, form=None, link_form=None, secret=None, status=200):
        form = form or JiraConnectionForm(initial={"name": connection.name, "base_url": connection.base_url,
                                                   "email": connection.email}, editing=True, kind=connection.kind)
        link_form = link_form or JiraLinkForm(products=_products(view.workspace), kind=connection.kind)
        return render(view.request, "integrations/jira_connection.html", view.get_context_data(
            connection=connection, terms=connection.terms, object=connection, form=form, link_form=link_form,
            secret=secret,
            hook_url=_hook_url(connection),
            links=selectors.links_for_user(user=view.request.user).filter(connection=connection),
            log=selectors.log_of(connection)), status=status)

    def _connection(self, request, connection_id):
        return selectors.connection_for_user(user=request.user, connection_id=connection_id,
                                             workspace_id=self.workspace.id)

    def get(self, request, ws, connection_id):
        return self.show(self, self._connection(request, connection_id))

    def post(self, request, ws, connection_id):
        connection = self._connection(request, connection_id)
        action = request.POST.get("action", "save")
        here = redirect("integrations:jira_connection", ws=ws, connection_id=connection.id)
        if action == "delete":
            services.connection_delete(user=request.user, connection=connection)
            messages.success(request, f"{connection.provider_label} connection deleted. "
                                      "Stories and issues stay where they are.")
            return redirect("integrations:jira_connections", ws=ws)
        if action == "test":
            services.connection_test_queue(user=request.user, connection=connection)
            messages.success(request, "Testing the connection: the answer appears in the log below within seconds.")
            return here
        if action == "retry":
            ids = [int(i) for i in request.POST.getlist("outbox") if i.isdigit()] or None
            count = services.outbox_retry(user=request.user, connection=connection, outbox_ids=ids)
            messages.success(request, f"{count} change{'' if count == 1 else 's'} queued again.")
            return here
        if action == "link":
            link_form = JiraLinkForm(request.POST, products=_products(self.workspace), kind=connection.kind)
            if link_form.is_valid():
                data = link_form.cleaned_data
                types = provider.default_issue_types(connection.kind)
                try:
                    link = services.link_create(user=request.user, connection=connection,
                                                product=_product(self.workspace, data["product"]),
                                                project_key=data["project_key"],
                                                story_issue_type=data.get("story_issue_type") or types[0],
                                                epic_issue_type=data.get("epic_issue_type") or types[1])
                except ValidationError as e:
                    form_errors_from(e, link_form)
                else:
                    messages.success(request, f"Linked to {link.project_key}. Its statuses and fields are being "
                                              "read; check the proposed mapping, then preview the import.")
                    return redirect("integrations:jira_link", ws=ws, connection_id=connection.id, link_id=link.id)
            return self.show(self, connection, link_form=link_form, status=400)
        form = JiraConnectionForm(request.POST, editing=True, kind=connection.kind)
        if form.is_valid():
            try:
                services.connection_update(user=request.user, connection=connection, data=form.cleaned_data,
                                           version=version_read(request.POST.get("version")))
            except Conflict:
                form_conflict(form, "connection")
                return self.show(self, connection, form=form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"{connection.provider_label} connection saved.")
                return here
        return self.show(self, connection, form=form, status=400)


class JiraLinkView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _link(self, request, connection_id, link_id):
        return selectors.link_for_user(user=request.user, link_id=link_id, workspace_id=self.workspace.id,
                                       connection_id=connection_id)

    def _settings_form(self, link, data=None):
        rules = services.rules_table(link)
        initial = {"story_issue_type": link.story_issue_type, "epic_issue_type": link.epic_issue_type,
                   "on_delete": link.on_delete}
        for r in rules:
            initial[f"direction_{r['field']}"], initial[f"rule_{r['field']}"] = r["direction"], r["rule"]
        initial.update({f"in_{k}": v for k, v in (link.status_in or {}).items()})
        initial.update({f"out_{k}": v for k, v in (link.status_out or {}).items()})
        return JiraLinkSettingsForm(data, initial=initial, link=link, workflow=_workflow(link.product))

    def _render(self, link, *, form=None, import_form=None, status=200):
        form = form or self._settings_form(link)
        return render(self.request, "integrations/jira_link.html", self.get_context_data(
            link=link, object=link, connection=link.connection, terms=link.connection.terms, form=form,
            rule_rows=[(form[f"direction_{f}"], form[f"rule_{f}"]) for f in form.synced],
            status_fields=[form[name] for name in form.fields if name.startswith(("in_", "out_"))],
            import_form=import_form or JiraImportForm(initial={"jql": link.jql}, kind=link.connection.kind),
            preview=link.preview or {}), status=status)

    def get(self, request, ws, connection_id, link_id):
        return self._render(self._link(request, connection_id, link_id))

    def post(self, request, ws, connection_id, link_id):
        link = self._link(request, connection_id, link_id)
        action = request.POST.get("action", "save")
        here = redirect("integrations:jira_link", ws=ws, connection_id=link.connection_id, link_id=link.id)
        if action == "unlink":
            services.link_delete(user=request.user, link=link)
            messages.success(request, f"Product unlinked from {link.provider_label}. Stories and issues both stay.")
            return redirect("integrations:jira_connection", ws=ws, connection_id=link.connection_id)
        if action == "preview":
            import_form = JiraImportForm(request.POST, kind=link.connection.kind)
            if import_form.is_valid():
                try:
                    services.import_preview_queue(user=request.user, link=link, jql=import_form.cleaned_data.get("jql"))
                except ValidationError as e:
                    form_errors_from(e, import_form)
                else:
                    messages.success(request, "Preview requested: what would be created, linked and skipped "
                                              "appears below within seconds.")
                    return here
            return self._render(link, import_form=import_form, status=400)
        if action == "import":
            try:
                services.import_run_queue(user=request.user, link=link)
            except ValidationError as e:
                messages.error(request, _messages_of(e))
            else:
                messages.success(request, "Import started: its result appears here and in the sync log.")
            return here
        if action == "push":
            count = services.push_existing(user=request.user, link=link)
            messages.success(request, f"{count} stor{'y' if count == 1 else 'ies'} queued to be created "
                                      f"in {link.provider_label}.")
            return here
        if action in ("pause", "resume", "rediscover"):
            data = {"rediscover": True} if action == "rediscover" else {"active": action == "resume"}
            try:
                services.link_update(user=request.user, link=link, data=data,
                                     version=version_read(request.POST.get("version")))
            except Conflict:
                messages.error(request, "Someone else changed this link meanwhile; look again and retry.")
            else:
                messages.success(request, {"pause": "Sync paused.", "resume": "Sync resumed.",
                                           "rediscover": f"Reading {link.provider_label}'s statuses and "
                                                         "fields again."}[action])
            return here
        form = self._settings_form(link, request.POST)
        if form.is_valid():
            try:
                services.link_update(user=request.user, link=link, data=form.service_data(),
                                     version=version_read(request.POST.get("version")))
            except Conflict:
                form_conflict(form, "link")
                return self._render(link, form=form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Sync settings saved.")
                return here
        return self._render(link, form=form, status=400)


@method_decorator(csrf_exempt, name="dispatch")
class JiraWebhookView(View):
    """Inbound Jira webhooks. No session or token: the credential is the X-Hub-Signature HMAC made
    with the connection's secret; the URL's token only finds the connection."""

    def post(self, request, hook_token):
        from integrations.services import WebhookRefused

        try:
            outcome = services.delivery_receive(
                hook_token=hook_token, signature=request.headers.get("X-Hub-Signature"),
                identifier=request.headers.get("X-Atlassian-Webhook-Identifier"), body=request.body)
        except WebhookRefused as exc:
            return JsonResponse({"detail": exc.reason}, status=exc.status)
        return JsonResponse({"detail": outcome})
