"""Pages: report subscriptions (list, form, preview, history, web/PDF report), the unsubscribe
page, webhook endpoints and their delivery log, and the notification preferences page."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from pmhub.errors import Conflict
from pmhub.models import Membership, Role
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import selectors, services
from .forms import PreferencesForm, PreviewForm, SubscriptionForm, WebhookForm
from .models import ReportRun


def _products(workspace):
    from roadmaps.models import Product

    return list(Product.objects.alive().filter(workspace=workspace).order_by("name"))


def _members(workspace):
    return [m.user for m in Membership.objects.filter(workspace=workspace).select_related("user")
            .order_by("user__email")]


def _product_or_none(workspace, product_id):
    if product_id is None:
        return None
    from roadmaps.models import Product

    return get_object_or_404(Product.objects.alive(), id=product_id, workspace=workspace)


class SubscriptionListView(WorkspacePageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _form(self, data=None):
        return SubscriptionForm(data, products=_products(self.workspace), members=_members(self.workspace),
                                initial={"member_ids": [self.request.user.id]})

    def _render(self, form, status=200):
        subscriptions = selectors.subscriptions_for_user(user=self.request.user, workspace_id=self.workspace.id)
        return render(self.request, "reports/subscriptions.html",
                      self.get_context_data(subscriptions=subscriptions, form=form), status=status)

    def get(self, request, ws):
        return self._render(self._form())

    def post(self, request, ws):
        form = self._form(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                data["product"] = _product_or_none(self.workspace, data["product"])
                subscription = services.subscription_create(user=request.user, workspace=self.workspace, **data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Report “{subscription.name}” created.")
                return redirect("reports:detail", ws=ws, subscription_id=subscription.id)
        return self._render(form, status=400)


class PreviewView(WorkspacePageMixin, View):
    """Preview a report before subscribing: the form's product and sections, built now."""

    required_role = Role.VIEWER
    write_role = Role.VIEWER  # POST from the subscription form: reads only, keeps the CSRF token out of URLs

    def post(self, request, ws):
        return self._preview(request.POST)

    def get(self, request, ws):
        return self._preview(request.GET)

    def _preview(self, data):
        request = self.request
        form = PreviewForm(data, products=_products(self.workspace))
        if not form.is_valid():
            return render(request, "reports/report_page.html", self.get_context_data(errors=form.errors), status=400)
        product = _product_or_none(self.workspace, form.cleaned_data["product"])
        data = services.report_build(product=product, workspace=self.workspace,
                                     section_keys=form.cleaned_data["sections"] or None)
        return render(request, "reports/report_page.html", self.get_context_data(report=data, preview=True))


class SubscriptionDetailView(WorkspacePageMixin, View):
    """Settings and history (each run, its recipients and outcome)."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _subscription(self, subscription_id):
        return selectors.subscription_for_user(user=self.request.user, subscription_id=subscription_id,
                                               workspace_id=self.workspace.id)

    def _form(self, subscription, data=None):
        recipients = list(subscription.recipients.all())
        initial = {"name": subscription.name, "product": subscription.product_id or "", "cadence": subscription.cadence,
                   "weekday": subscription.weekday, "day_of_month": subscription.day_of_month,
                   "hour": subscription.hour, "sections": subscription.sections,
                   "member_ids": [r.user_id for r in recipients if r.user_id],
                   "emails": "\n".join(r.email for r in recipients if not r.user_id)}
        return SubscriptionForm(data, initial=initial, products=_products(self.workspace),
                                members=_members(self.workspace))

    def _render(self, subscription, form, status=200):
        return render(self.request, "reports/subscription_detail.html", self.get_context_data(
            subscription=subscription, form=form, runs=selectors.runs_of(subscription=subscription)), status=status)

    def get(self, request, ws, subscription_id):
        subscription = self._subscription(subscription_id)
        return self._render(subscription, self._form(subscription))

    def post(self, request, ws, subscription_id):
        subscription = self._subscription(subscription_id)
        form = self._form(subscription, request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                data["product"] = _product_or_none(self.workspace, data["product"])
                services.subscription_update(
                    user=request.user, subscription=subscription, data=data,
                    version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "report")
                return self._render(self._subscription(subscription_id), form, status=409)
            else:
                messages.success(request, "Report saved.")
                return redirect("reports:detail", ws=ws, subscription_id=subscription.id)
        return self._render(subscription, form, status=400)


class SubscriptionDeleteView(WorkspacePageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, subscription_id):
        subscription = selectors.subscription_for_user(user=request.user, subscription_id=subscription_id,
                                                       workspace_id=self.workspace.id)
        services.subscription_delete(user=request.user, subscription=subscription)
        messages.success(request, f"Report “{subscription.name}” deleted.")
        return redirect("reports:list", ws=ws)


class SendNowView(WorkspacePageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, subscription_id):
        subscription = selectors.subscription_for_user(user=request.user, subscription_id=subscription_id,
                                                       workspace_id=self.workspace.id)
        run = services.report_send_now(user=request.user, subscription=subscription)
        messages.success(request, f"Sending the report to {run.deliveries.count()} recipient(s).")
        return redirect("reports:detail", ws=ws, subscription_id=subscription.id)


class ReportPageView(WorkspacePageMixin, View):
    """The subscription's report as a web page (built now). ?format=pdf: the PDF of its latest run
    (PDFs are rendered by the worker for each run, decision 1420)."""

    required_role = Role.VIEWER

    def get(self, request, ws, subscription_id):
        subscription = selectors.subscription_for_user(user=request.user, subscription_id=subscription_id,
                                                       workspace_id=self.workspace.id)
        if request.GET.get("format") == "pdf":
            run = subscription.runs.defer("data").first()
            if run is not None:
                return redirect(reverse("reports:run", kwargs={"ws": ws, "run_id": run.id}) + "?format=pdf")
            return render(request, "reports/pdf_pending.html",
                          self.get_context_data(subscription=subscription, no_run=True), status=404)
        data = services.report_build(subscription=subscription)
        return render(request, "reports/report_page.html", self.get_context_data(
            report=data, subscription=subscription, latest_run=subscription.runs.defer("data").first()))


class RunPageView(WorkspacePageMixin, View):
    """A past run's report exactly as it was mailed (stored data), as a page or PDF."""

    required_role = Role.VIEWER

    def get(self, request, ws, run_id):
        run = get_object_or_404(ReportRun.objects.select_related("subscription"), id=run_id,
                                subscription__workspace=self.workspace)
        if request.GET.get("format") == "pdf":
            return _run_pdf(request, self, run)
        return render(request, "reports/report_page.html", self.get_context_data(
            report=run.data, subscription=run.subscription, run=run))


def _run_pdf(request, view, run):
    """The run's stored PDF at once; without it (still rendering, or a run from before PDFs were
    stored), a page that says it is being prepared (202, refreshing itself) and the render queued
    once. WeasyPrint never runs in a request."""
    content = services.report_run_pdf_stored(run=run)
    if content is not None:
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="report-{run.period}.pdf"'
        return response
    services.report_run_pdf_request(run=run)
    return render(request, "reports/pdf_pending.html", view.get_context_data(
        subscription=run.subscription, run=run), status=202)


@method_decorator(csrf_exempt, name="dispatch")  # the signed token is the authority (RFC 8058 one-click POST)
class UnsubscribeView(View):
    """No sign-in: GET shows a confirmation, POST unsubscribes (link scanners only GET)."""

    def _recipient(self, ws, token):
        recipient = services.recipient_for_token(token)
        if recipient is None or recipient.subscription.workspace.slug != ws:
            raise Http404("This unsubscribe link is not valid.")
        return recipient

    def get(self, request, ws, token):
        return render(request, "reports/unsubscribe.html", {"recipient": self._recipient(ws, token), "done": False})

    def post(self, request, ws, token):
        recipient = services.recipient_unsubscribe(recipient=self._recipient(ws, token))
        return render(request, "reports/unsubscribe.html", {"recipient": recipient, "done": True})


class WebhookListView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, form, status=200, new_endpoint=None):
        endpoints = selectors.webhook_endpoints_for_user(user=self.request.user, workspace_id=self.workspace.id)
        return render(self.request, "reports/webhooks.html", self.get_context_data(
            endpoints=endpoints, form=form, new_endpoint=new_endpoint), status=status)

    def get(self, request, ws):
        return self._render(WebhookForm())

    def post(self, request, ws):
        form = WebhookForm(request.POST)
        if form.is_valid():
            try:
                endpoint = services.webhook_endpoint_create(user=request.user, workspace=self.workspace,
                                                            **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                # The secret is shown on this response only.
                return self._render(WebhookForm(), new_endpoint=endpoint)
        return self._render(form, status=400)


class WebhookDetailView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _endpoint(self, endpoint_id):
        return get_object_or_404(selectors.webhook_endpoints_for_user(user=self.request.user,
                                                                      workspace_id=self.workspace.id), id=endpoint_id)

    def get(self, request, ws, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        return render(request, "reports/webhook_detail.html", self.get_context_data(
            endpoint=endpoint, deliveries=selectors.webhook_deliveries_of(endpoint=endpoint)))

    def post(self, request, ws, endpoint_id):
        endpoint = self._endpoint(endpoint_id)
        action = request.POST.get("action")
        if action == "delete":
            services.webhook_endpoint_delete(user=request.user, endpoint=endpoint)
            messages.success(request, "Webhook deleted.")
            return redirect("reports:webhooks", ws=ws)
        if action in ("enable", "disable"):
            try:
                services.webhook_endpoint_update(user=request.user, endpoint=endpoint,
                                                 data={"active": action == "enable"})
            except ValidationError as e:  # a URL saved before the outbound check cannot be re-enabled
                messages.error(request, " ".join(m for msgs in e.message_dict.values() for m in msgs))
            else:
                messages.success(request, f"Webhook {action}d.")
        return redirect("reports:webhook_detail", ws=ws, endpoint_id=endpoint.id)


class NotificationPreferencesView(LoginRequiredMixin, View):
    """/account/notifications/: e-mail on or off per kind of notification (your own settings)."""

    def _form(self, data=None):
        return PreferencesForm(data, preferences=services.notification_preferences_for(user=self.request.user))

    def get(self, request):
        return render(request, "reports/notification_preferences.html", {"form": self._form()})

    def post(self, request):
        form = self._form(request.POST)
        if form.is_valid():
            for kind, value in form.cleaned_data.items():
                services.notification_preference_set(user=request.user, kind=kind, email=value)
            messages.success(request, "Notification preferences saved.")
            return redirect("notification_preferences")
        return render(request, "reports/notification_preferences.html", {"form": form}, status=400)
