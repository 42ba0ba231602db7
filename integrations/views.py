"""Pages: the workspace's Slack and Teams channels (list + add), one channel (edit, pause, test
message, delete) with its part of the shared delivery log. Workspace admins only."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import selectors, services
from .forms import ChannelForm


def _products(workspace):
    from roadmaps.models import Product

    return list(Product.objects.alive().filter(workspace=workspace).order_by("name"))


def _product(workspace, product_id):
    if product_id is None:
        return None
    from roadmaps.models import Product

    return Product.objects.alive().filter(id=product_id, workspace=workspace).first()


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
