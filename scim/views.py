"""Pages: SCIM provisioning settings of a workspace (admins): the endpoint, tokens (created, shown
once, revoked), the default role, and the provisioned groups with the role each maps to."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import selectors, services
from .forms import ScimDefaultRoleForm, ScimGroupRoleForm, ScimTokenForm
from .models import ScimGroup, ScimToken


class ScimSettingsView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, *, token_form=None, role_form=None, new_key=None, status=200):
        config = selectors.config_of(workspace_id=self.workspace.id)
        return render(self.request, "scim/settings.html", self.get_context_data(
            config=config, object=config,
            base_url=self.request.build_absolute_uri("/scim/v2"),
            tokens=selectors.tokens_of(workspace_id=self.workspace.id),
            groups=selectors.groups_of(workspace_id=self.workspace.id),
            provisioned=selectors.users_of(workspace_id=self.workspace.id).exclude(active=False).count(),
            token_form=token_form or ScimTokenForm(),
            role_form=role_form or ScimDefaultRoleForm(initial={"default_role": config.default_role}),
            new_key=new_key), status=status)

    def get(self, request, ws):
        return self._render()

    def post(self, request, ws):
        if request.POST.get("action") == "default_role":
            form = ScimDefaultRoleForm(request.POST)
            if form.is_valid():
                try:
                    services.scim_config_update(user=request.user, workspace=self.workspace,
                                                default_role=form.cleaned_data["default_role"],
                                                version=version_read(request.POST.get("version")))
                except Conflict:
                    form_conflict(form, "setting")
                    return self._render(role_form=form, status=409)
                except ValidationError as e:
                    form_errors_from(e, form)
                else:
                    messages.success(request, "Default role saved.")
                    return redirect("scim:settings", ws=ws)
            return self._render(role_form=form, status=400)
        form = ScimTokenForm(request.POST)
        if form.is_valid():
            try:
                token, raw = services.scim_token_create(user=request.user, workspace=self.workspace,
                                                        name=form.cleaned_data["name"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"SCIM token “{token.name}” created.")
                return self._render(new_key=raw)
        return self._render(token_form=form, status=400)


class ScimTokenRevokeView(WorkspacePageMixin, View):
    """POST only: the settings page's Revoke button."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def post(self, request, ws, token_id):
        token = get_object_or_404(ScimToken, id=token_id, workspace=self.workspace)
        services.scim_token_revoke(user=request.user, token=token)
        messages.success(request, f"SCIM token “{token.name}” revoked: the identity provider can no longer use it.")
        return redirect("scim:settings", ws=ws)


class ScimGroupView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, group, form, status=200):
        return render(self.request, "scim/group.html", self.get_context_data(
            group=group, object=group, form=form, members=group.members.select_related("user").order_by("user_name")),
            status=status)

    def get(self, request, ws, group_id):
        group = get_object_or_404(ScimGroup, id=group_id, workspace=self.workspace)
        return self._render(group, ScimGroupRoleForm(initial={"role": group.role or ""}))

    def post(self, request, ws, group_id):
        group = get_object_or_404(ScimGroup, id=group_id, workspace=self.workspace)
        form = ScimGroupRoleForm(request.POST)
        if form.is_valid():
            try:
                services.scim_group_set_role(user=request.user, group=group, role=form.cleaned_data["role"],
                                             version=version_read(request.POST.get("version")))
            except Conflict:
                form_conflict(form, "group")
                return self._render(group, form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                role = form.cleaned_data["role"]
                messages.success(request, f"Group “{group.display_name}” now maps to "
                                          f"{Role(role).label.lower() if role else 'no role'}.")
                return redirect("scim:settings", ws=ws)
        return self._render(group, form, status=400)
