"""Pages to record a GitHub App (workspace admins): the list with an add form, and one App (webhook URL,
installations, edit with a write-only key and secret, delete). The services are those of the API."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from ..views import _product, _products  # the product choices of the other integration pages
from . import services
from .forms import GitHubAppForm
from .models import GitHubApp


class GitHubAppListView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200):
        apps = GitHubApp.objects.filter(workspace=self.workspace).select_related("product").order_by("name", "id")
        return render(
            self.request, "integrations/github_apps.html", self.get_context_data(apps=apps, form=form), status=status
        )

    def get(self, request, ws):
        return self._render(GitHubAppForm(products=_products(self.workspace)))

    def post(self, request, ws):
        form = GitHubAppForm(request.POST, products=_products(self.workspace))
        if form.is_valid():
            data = form.cleaned_data
            try:
                app = services.app_create(
                    user=request.user,
                    workspace=self.workspace,
                    name=data["name"],
                    app_id=data["app_id"],
                    private_key=data["private_key"],
                    webhook_secret=data["webhook_secret"],
                    api_url=data["api_url"],
                    product=_product(self.workspace, data["product"]),
                )
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "GitHub App recorded. Set its webhook URL on GitHub (shown below).")
                return redirect("integrations:github_app", ws=ws, app_id=app.id)
        return self._render(form, status=400)


class GitHubAppDetailView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _app(self, app_id):
        app = GitHubApp.objects.select_related("product").filter(workspace=self.workspace, id=app_id).first()
        if app is None:
            raise Http404
        return app

    def _render(self, app, form=None, status=200):
        form = form or GitHubAppForm(
            products=_products(self.workspace),
            editing=True,
            initial={"name": app.name, "api_url": app.api_url, "product": app.product_id},
        )
        hook_url = settings.SITE_URL + reverse("github_app_webhook", kwargs={"hook_token": app.hook_token})
        return render(
            self.request,
            "integrations/github_app.html",
            self.get_context_data(
                app=app, object=app, form=form, hook_url=hook_url, installations=app.installations.all()[:100]
            ),
            status=status,
        )

    def get(self, request, ws, app_id):
        return self._render(self._app(app_id))

    def post(self, request, ws, app_id):
        app = self._app(app_id)
        if request.POST.get("action") == "delete":
            services.app_delete(user=request.user, app=app)
            messages.success(request, "GitHub App forgotten. Its issue syncs stopped; stories stay.")
            return redirect("integrations:github_apps", ws=ws)
        form = GitHubAppForm(request.POST, products=_products(self.workspace), editing=True)
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["product"] = _product(self.workspace, data["product"])
            try:
                services.app_update(
                    user=request.user, app=app, data=data, version=version_read(request.POST.get("version"))
                )
            except Conflict:
                form_conflict(form, "App")
                return self._render(app, form, status=409)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "GitHub App saved.")
                return redirect("integrations:github_app", ws=ws, app_id=app.id)
        return self._render(app, form, status=400)
