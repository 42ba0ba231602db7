"""Pages: the workspace's Slack and Teams channels (list + add), one channel (edit, pause, test
message, delete) with its part of the shared delivery log. Workspace admins only."""

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

from . import selectors, services
from .forms import ChannelForm, RepositoryConnectForm, RepositoryForm


def _products(workspace):
    from roadmaps.models import Product

    return list(Product.objects.alive().filter(workspace=workspace).order_by("name"))


def _product(workspace, product_id):
    from roadmaps.selectors import product_of_workspace

    return product_of_workspace(workspace, product_id)


class ChannelListView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        channels = selectors.channels_for_user(user=self.request.user, workspace_id=self.workspace.id)
        return render(self.request, "integrations/channels.html", self.get_context_data(
            channels=channels, form=form), status=status)

    def get(self, request, ws):
        return self._render(ChannelForm(products=_products(self.workspace)))

    def post(self, request, ws):
        form = ChannelForm(request.POST, products=_products(self.workspace))
        if form.is_valid():
            data = form.cleaned_data
            try:
                channel = services.channel_create(user=request.user, workspace=self.workspace, kind=data["kind"],
                                                  name=data["name"], url=data["url"], events=data["events"],
                                                  product=_product(self.workspace, data["product"]))
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Channel {channel.name} added. Send a test message to check it.")
                return redirect("integrations:channel", ws=ws, channel_id=channel.id)
        return self._render(form, status=400)


class ChannelDetailView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, channel, form, status=200):
        return render(self.request, "integrations/channel_detail.html", self.get_context_data(
            channel=channel, object=channel, form=form, endpoint=channel.endpoint,
            deliveries=selectors.channel_deliveries_of(channel=channel)), status=status)

    def _form(self, channel, data=None):
        initial = {"name": channel.name, "product": channel.product_id, "events": channel.endpoint.events}
        return ChannelForm(data, initial=initial, products=_products(self.workspace), editing=True)

    def get(self, request, ws, channel_id):
        channel = selectors.channel_for_user(user=request.user, channel_id=channel_id, workspace_id=self.workspace.id)
        return self._render(channel, self._form(channel))

    def post(self, request, ws, channel_id):
        channel = selectors.channel_for_user(user=request.user, channel_id=channel_id, workspace_id=self.workspace.id)
        action = request.POST.get("action", "save")
        if action == "delete":
            services.channel_delete(user=request.user, channel=channel)
            messages.success(request, "Channel deleted.")
            return redirect("integrations:channels", ws=ws)
        if action == "test":
            try:
                services.channel_test_send(user=request.user, channel=channel)
            except ValidationError as e:
                messages.error(request, " ".join(m for msgs in e.message_dict.values() for m in msgs))
            else:
                messages.success(request, "Test message queued: its outcome appears in the delivery log below.")
            return redirect("integrations:channel", ws=ws, channel_id=channel.id)
        if action in ("pause", "resume"):
            try:
                services.channel_update(user=request.user, channel=channel, data={"active": action == "resume"},
                                        version=version_read(request.POST.get("version")))
            except Conflict:
                messages.error(request, "Someone else changed this channel meanwhile; look again and retry.")
            else:
                messages.success(request, "Channel paused." if action == "pause" else "Channel resumed.")
            return redirect("integrations:channel", ws=ws, channel_id=channel.id)
        form = self._form(channel, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.channel_update(user=request.user, channel=channel, version=version_read(
                    request.POST.get("version")), data={
                        "name": data["name"], "url": data["url"] or None, "events": data["events"],
                        "product": _product(self.workspace, data["product"])})
            except Conflict:
                form_conflict(form, "channel")
                return self._render(channel, form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Channel saved.")
                return redirect("integrations:channel", ws=ws, channel_id=channel.id)
        return self._render(channel, form, status=400)


# --- GitHub ---------------------------------------------------------------------------------------------
def _workflow(product):
    from backlog.services import workflow_of

    return workflow_of(product)


class RepositoryListView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        return render(self.request, "integrations/repositories.html", self.get_context_data(
            repositories=selectors.repositories_for_user(user=self.request.user, workspace_id=self.workspace.id),
            form=form), status=status)

    def get(self, request, ws):
        return self._render(RepositoryConnectForm(products=_products(self.workspace)))

    def post(self, request, ws):
        form = RepositoryConnectForm(request.POST, products=_products(self.workspace))
        if form.is_valid():
            data = form.cleaned_data
            try:
                repository, secret = services.repository_connect(
                    user=request.user, product=_product(self.workspace, data["product"]),
                    full_name=data["full_name"], token=data["token"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                # The webhook secret is shown on this response only.
                return RepositoryDetailView.show(self, repository, secret=secret, status=201)
        return self._render(form, status=400)


class RepositoryDetailView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    @staticmethod
    def show(view, repository, *, form=None, secret=None, status=200):
        from django.conf import settings

        form = form or RepositoryForm(initial={"merge_status": repository.merge_status},
                                      workflow=_workflow(repository.product))
        hook_url = settings.SITE_URL + reverse("github_webhook", kwargs={"hook_token": repository.hook_token})
        return render(view.request, "integrations/repository_detail.html", view.get_context_data(
            repository=repository, object=repository, form=form, secret=secret, hook_url=hook_url,
            deliveries=repository.deliveries.all()[:50],
            pull_requests=repository.pull_requests.select_related("story")[:50]), status=status)

    def get(self, request, ws, repository_id):
        repository = selectors.repository_for_user(user=request.user, repository_id=repository_id,
                                                   workspace_id=self.workspace.id)
        return self.show(self, repository)

    def post(self, request, ws, repository_id):
        repository = selectors.repository_for_user(user=request.user, repository_id=repository_id,
                                                   workspace_id=self.workspace.id)
        if request.POST.get("action") == "disconnect":
            services.repository_disconnect(user=request.user, repository=repository)
            messages.success(request, "Repository disconnected.")
            return redirect("integrations:repositories", ws=ws)
        form = RepositoryForm(request.POST, workflow=_workflow(repository.product))
        if form.is_valid():
            try:
                services.repository_update(user=request.user, repository=repository, data=form.cleaned_data,
                                           version=version_read(request.POST.get("version")))
            except Conflict:
                form_conflict(form, "repository")
                return self.show(self, repository, form=form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Repository saved.")
                return redirect("integrations:repository", ws=ws, repository_id=repository.id)
        return self.show(self, repository, form=form, status=400)


@method_decorator(csrf_exempt, name="dispatch")
class GitHubWebhookView(View):
    """Inbound GitHub webhooks. No session or token: the credential is the X-Hub-Signature-256 HMAC
    made with the repository's secret; the URL's token only finds the repository."""

    def post(self, request, hook_token):
        try:
            outcome = services.github_delivery_receive(
                hook_token=hook_token, event=request.headers.get("X-GitHub-Event", ""),
                delivery_id=request.headers.get("X-GitHub-Delivery", ""),
                signature=request.headers.get("X-Hub-Signature-256"), body=request.body)
        except services.WebhookRefused as exc:
            return JsonResponse({"detail": exc.reason}, status=exc.status)
        return JsonResponse({"detail": outcome})
