"""Pages of the metrics app: KPIs, measurements (entry, CSV upload), dashboards, action plans."""

import csv
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.forms.models import model_to_dict
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.views import View

from adoption.selectors import adoption_funnels, adoption_of_products
from governance import selectors as governance_selectors
from pmhub import formatting
from pmhub.clock import today_in
from pmhub.csvsafe import safe_row
from pmhub.errors import Conflict
from pmhub.htmltext import esc
from pmhub.models import Role
from pmhub.utils import url_for_ids, version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from
from roadmaps.pages import ProductPageMixin

from . import selectors, services
from .dashboard_html import FunnelRows, funnel_rows_html, measurement_rows, tiles_html
from .forms import ActionPlanForm, KpiForm, MeasurementForm, UploadForm
from .models import Health, Measurement

KPI_DATA_FIELDS = ["name", "description", "unit", "direction", "aggregation", "cadence", "owner", "target_value",
                   "target_date", "baseline_value", "baseline_date", "warning_threshold", "critical_threshold",
                   "initiatives", "epics"]


def _kpi_data(form) -> dict:
    data = {f: form.cleaned_data.get(f) for f in KPI_DATA_FIELDS}
    data["initiatives"] = list(data["initiatives"] or [])
    data["epics"] = list(data["epics"] or [])
    return data


class KpiListView(ProductPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form, status=200):
        kpis = selectors.kpis_of_product(product=self.product)
        return render(request, "metrics/kpi_list.html", self.get_context_data(kpis=kpis, form=form), status=status)

    def get(self, request, ws, product_id):
        return self._render(request, KpiForm(product=self.product))

    def post(self, request, ws, product_id):
        form = KpiForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                kpi = services.kpi_create(user=request.user, product=self.product, data=_kpi_data(form))
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"KPI “{kpi.name}” created.")
                return redirect("metrics_kpi_detail", ws=ws, product_id=product_id, kpi_id=kpi.id)
        return self._render(request, form, status=400)


class KpiPageMixin(ProductPageMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.kpi = selectors.kpi_for_user(user=request.user, kpi_id=kwargs["kpi_id"])
            if self.kpi.product_id != kwargs["product_id"]:
                raise Http404("Not found.")
        return super().dispatch(request, *args, **kwargs)

    def product_of(self, request, kwargs):
        # The KPI was read with its product and workspace, and only as a KPI of a live product of
        # the user's workspaces: ProductPageMixin checks that product instead of reading it a
        # second time (decisions 2140, 2220).
        return self.kpi.product

    def kpi_url(self):
        return reverse("metrics_kpi_detail", kwargs={"ws": self.workspace.slug, "product_id": self.product.id,
                                                     "kpi_id": self.kpi.id})


class KpiDetailView(KpiPageMixin, View):
    """The KPI: chart with target line and thresholds, measurements, CSV upload, health, plans.
    POST edits the KPI (optimistic locking on `version`)."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, measurement_form=None, status=200):
        kpi = self.kpi
        can_edit = self.role >= Role.EDITOR
        span = selectors.measurement_span(kpi)
        today = today_in(self.workspace.time_zone)
        window = selectors.Window(span["first"] or today, max(span["last"] or today, today), "all")
        # The chart's data as the JSON text cached beside the figures (dashboard_page_data, decision
        # 1958): what `{{ chart|json_script }}` printed for {"window": ..., "kpis": rows}, without
        # unpickling every point and encoding it again on each view (decision 2325).
        _tiles, rows_json = selectors.dashboard_page_data(kpis=[kpi], window=window)
        chart_window = {"start": window.start.isoformat(), "end": window.end.isoformat()}
        chart_script = json_script(_Encoded('{"window": ' + json.dumps(chart_window) + ', "kpis": ' + rows_json + "}"),
                                   "dashboard-data", encoder=_EncodedJSON)
        # The linked initiatives and epics as (id, title) rows, read once for the "Linked work"
        # list and the edit form's ticked boxes (model_to_dict would read them again as models).
        initiatives, epics = selectors.linked_work(kpi)
        plain = [f for f in KPI_DATA_FIELDS if f not in ("initiatives", "epics")]
        initial = model_to_dict(kpi, fields=plain) | {
            "version": kpi.version, "initiatives": [i.id for i in initiatives], "epics": [e.id for e in epics]}
        context = self.get_context_data(
            kpi=kpi, chart_script=chart_script,
            measurement_rows=measurement_rows(self._measurements(kpi), can_edit=can_edit,
                                              csrf_token=get_token(request) if can_edit else ""),
            history=selectors.health_history(kpi),
            plans=selectors.plans_of_kpi(kpi),
            key_results=selectors.key_results_of_kpi(kpi),
            initiatives=initiatives, epics=epics,
            form=form or KpiForm(product=self.product, initial=initial),
            measurement_form=measurement_form or MeasurementForm(),
            upload_form=UploadForm(),
        )
        return render(request, "metrics/kpi_detail.html", context, status=status)

    def _measurements(self, kpi):
        """The latest 100 values as rows prepared once (decision 1955): the period as text, the value
        in the KPI's unit (pmhub.formatting.kpi_value, the figure every page shows), the source's
        label and the delete URL (one reverse for all of them), so the template prints text
        instead of running a date filter twice, a unit filter and a URL tag per row."""
        sources = dict(Measurement.Source.choices)
        url = url_for_ids("metrics_measurement_delete", "measurement_id", ws=self.workspace.slug,
                          product_id=self.product.id, kpi_id=kpi.id)
        rows = []
        for pk, period, value, source in selectors.latest_values(kpi):
            rows.append({"period": period.isoformat(), "value": formatting.kpi_value(value, kpi.unit),
                         "source": sources.get(source, source), "delete_url": url(pk)})
        return rows

    def get(self, request, ws, product_id, kpi_id):
        return self._render(request)

    def post(self, request, ws, product_id, kpi_id):
        form = KpiForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                services.kpi_update(user=request.user, kpi=self.kpi, data=_kpi_data(form),
                                    expected_version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                self.kpi.refresh_from_db()
                form.add_error(None, "Someone else changed this KPI meanwhile. Reload to see their change.")
                return self._render(request, form=form, status=409)
            else:
                messages.success(request, "KPI saved.")
                return redirect(self.kpi_url())
        return self._render(request, form=form, status=400)


class KpiDeleteView(KpiPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, kpi_id):
        services.kpi_delete(user=request.user, kpi=self.kpi)
        messages.success(request, f"KPI “{self.kpi.name}” deleted.")
        return redirect("metrics_kpi_list", ws=ws, product_id=product_id)


class MeasurementAddView(KpiPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, kpi_id):
        form = MeasurementForm(request.POST)
        if form.is_valid():
            try:
                services.measurements_upsert(user=request.user, kpi=self.kpi, items=[form.cleaned_data])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Value saved.")
                return redirect(self.kpi_url())
        return KpiDetailView(request=request, kpi=self.kpi, product=self.product, workspace=self.workspace,
                             role=self.role)._render(request, measurement_form=form, status=400)


class MeasurementDeleteView(KpiPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, kpi_id, measurement_id):
        measurement = get_object_or_404(self.kpi.measurements, pk=measurement_id)
        services.measurement_delete(user=request.user, measurement=measurement)
        messages.success(request, "Value deleted.")
        return redirect(self.kpi_url())


class UploadView(KpiPageMixin, View):
    """POST a CSV: it is stored, read by the worker into a staging row and shown for confirmation."""

    write_role = Role.EDITOR

    def post(self, request, ws, product_id, kpi_id):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, "Choose a CSV file.")
            return redirect(self.kpi_url())
        upload_file = form.cleaned_data["file"]
        if upload_file.size > 5 * 1024 * 1024:
            messages.error(request, "The file is larger than 5 MB.")
            return redirect(self.kpi_url())
        upload = services.upload_stage(user=request.user, kpi=self.kpi, content=upload_file.read(),
                                       filename=upload_file.name)
        messages.success(request, "File uploaded. Check the preview, then confirm.")
        return redirect("metrics_upload", ws=ws, product_id=product_id, kpi_id=kpi_id, upload_id=upload.id)


class UploadReadingView(KpiPageMixin, View):
    """htmx partial polled (every 1 s) while the worker reads the file; once read, the page reloads
    itself (HX-Refresh) to show the rows and errors."""

    required_role = Role.EDITOR

    def get(self, request, ws, product_id, kpi_id, upload_id):
        upload = selectors.upload_for_user(user=request.user, kpi=self.kpi, upload_id=upload_id)
        response = render(request, "metrics/_upload_reading.html", {"upload": upload, "kpi": self.kpi,
                                                                   "product": self.kpi.product,
                                                                   "workspace": self.workspace})
        if upload.status != upload.Status.PARSING:
            response["HX-Refresh"] = "true"
        return response


class UploadPreviewView(KpiPageMixin, View):
    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def get(self, request, ws, product_id, kpi_id, upload_id):
        upload = selectors.upload_for_user(user=request.user, kpi=self.kpi, upload_id=upload_id)
        return render(request, "metrics/upload_preview.html", self.get_context_data(kpi=self.kpi, upload=upload))

    def post(self, request, ws, product_id, kpi_id, upload_id):
        upload = selectors.upload_for_user(user=request.user, kpi=self.kpi, upload_id=upload_id)
        try:
            written = services.upload_confirm(user=request.user, upload=upload)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return redirect(request.path)
        messages.success(request, f"{written} values written.")
        return redirect(self.kpi_url())


class ActionPlanCreateView(KpiPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, kpi_id):
        try:
            plan = services.action_plan_create(user=request.user, kpi=self.kpi, data={
                "title": request.POST.get("title") or f"Improve “{self.kpi.name}”", "owner": self.kpi.owner})
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
            return redirect(self.kpi_url())
        messages.success(request, "Action plan created.")
        return redirect("metrics_plan_detail", ws=ws, plan_id=plan.id)


# --- dashboards ----------------------------------------------------------------------------------
class _Encoded(str):
    """JSON text encoded already (the dashboard's cached rows)."""


class _EncodedJSON(DjangoJSONEncoder):
    """Lets django.utils.html.json_script escape and wrap JSON text encoded already."""

    def encode(self, o):
        return str(o) if isinstance(o, _Encoded) else super().encode(o)


class DashboardMixin:
    template_name = "metrics/dashboard.html"

    def dashboard(self, request):
        window = selectors.window_from(request.GET, today=today_in(self.workspace.time_zone))
        kpis = self.dashboard_kpis()
        data = {"window": {"start": window.start.isoformat(), "end": window.end.isoformat(), "key": window.key,
                           "previous_start": window.previous.start.isoformat(),
                           "previous_end": window.previous.end.isoformat()}}
        return window, kpis, data

    def get(self, request, *args, **kwargs):
        window, kpis, data = self.dashboard(request)
        fmt = kwargs.get("fmt")
        if fmt in ("json", "csv"):
            data["kpis"] = selectors.dashboard_data(kpis=kpis, window=window)
            return JsonResponse(data) if fmt == "json" else self.csv(data)
        # The page: the same rows as the JSON above, as tiles and as the JSON text its charts read,
        # both cached beside them (decision 1958); the script is what json_script prints for `data`.
        tile_rows, rows_json = selectors.dashboard_page_data(kpis=kpis, window=window)
        data_script = json_script(_Encoded(json.dumps(data, cls=DjangoJSONEncoder)[:-1] + ', "kpis": ' + rows_json
                                           + "}"), "dashboard-data", encoder=_EncodedJSON)
        products = self.products()
        funnels = adoption_funnels(products=products, start=window.start, end=window.end)
        # Adoption % is one figure (adoption.selectors.adoption_of_products): 7 days ending today,
        # written beside it; the funnel's user counts are the dashboard's period.
        adoption_end = today_in(self.workspace.time_zone)
        adoption = adoption_of_products(product_ids=[p.id for p in products], end=adoption_end)
        for product_id, rows in funnels.items():
            for row in rows:
                row["adoption_7d"] = adoption.get(product_id, {}).get(row["feature_id"], {}).get("percent")
                # Ids as text: a plain int in a template goes through number localisation, a
                # few hundred calls on a workspace's funnels (decision 1955).
                row["feature_id_text"] = str(row["feature_id"])
            funnels[product_id] = FunnelRows(rows)
            funnels[product_id].html = funnel_rows_html(rows)
        # The tiles read the cached figures (never changed here) with their ids as text; tiles and
        # funnel rows are printed by metrics/dashboard_html.py (decision 2012).
        tiles = [{**t, "id_text": str(t["id"]), "product_text": str(t["product"])} for t in tile_rows]
        # The loops over the tiles (live topics, the chart's KPI list) and the funnel tables' dates,
        # printed once here (decision 2223): what the template's loops and filters printed.
        tile_topics = "".join(f"product:{t['product_text']} " for t in tiles)
        chart_options = mark_safe("".join(  # noqa: S308 - every value escaped by esc
            f'<option value="{esc(t["id_text"])}">{esc(t["name"])}</option>' for t in tiles))
        funnel_dates = {"start": formatting.date(window.start), "end": formatting.date(window.end),
                        "adoption_end": formatting.date(adoption_end)}
        context = self.get_context_data(
            window=window, data=data, data_script=data_script, tiles=tiles, ranges=["30", "90", "365"],
            tile_topics=tile_topics, chart_options=chart_options, funnel_dates=funnel_dates,
            tiles_html=tiles_html(tiles, ws=self.workspace.slug, previous_end=data["window"]["previous_end"]),
            data_url=self.data_url(), export_url=self.export_url(),
            objectives=selectors.objectives_with_progress(products=products),
            funnels=list(zip(products, funnels.values(), strict=True)), adoption_end=adoption_end,
            health_labels=dict(Health.choices), scope_product=getattr(self, "product", None),
            risks=governance_selectors.above_appetite_rows_of(**self.risk_scope()),
            awaiting=governance_selectors.statements_awaiting_decision_of(user=request.user, role=self.role,
                                                                          **self.risk_scope()),
        )
        return render(request, self.template_name, context)

    def csv(self, data):
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f'dashboard-{data["window"]["start"]}-{data["window"]["end"]}.csv'
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        writer.writerow(["kpi", "unit", "health", "target", "target_date", "period_value", "previous_value",
                         "delta_pct", "period", "value"])
        for k in data["kpis"]:
            head = [k["name"], k["unit"], k["health"], k["target"], k["target_date"], k["period_value"],
                    k["previous_value"], k["delta_pct"]]
            for day, value in k["points"] or [[None, None]]:
                writer.writerow(safe_row(head + [day, value]))
        return response


class ProductDashboardView(DashboardMixin, ProductPageMixin, View):
    required_role = Role.VIEWER

    def dashboard_kpis(self):
        return selectors.dashboard_kpis_of_product(product=self.product)

    def products(self):
        return [self.product]

    def risk_scope(self):
        return {"scope": "product", "scope_id": self.product.id}

    def data_url(self):
        return reverse("metrics_product_dashboard_data",
                       kwargs={"ws": self.workspace.slug, "product_id": self.product.id})

    def export_url(self):
        return reverse("metrics_product_dashboard_csv",
                       kwargs={"ws": self.workspace.slug, "product_id": self.product.id})


class WorkspaceDashboardView(DashboardMixin, WorkspacePageMixin, View):
    required_role = Role.VIEWER

    def dashboard_kpis(self):
        self._kpis = selectors.dashboard_kpis_of_workspace(workspace=self.workspace)
        return self._kpis

    def products(self):
        return selectors.dashboard_products(self._kpis)

    def risk_scope(self):
        """Every live product of the workspace: a risk matters even where no KPI is defined."""
        return {"scope": "workspace", "scope_id": self.workspace.id}

    def data_url(self):
        return reverse("metrics_workspace_dashboard_data", kwargs={"ws": self.workspace.slug})

    def export_url(self):
        return reverse("metrics_workspace_dashboard_csv", kwargs={"ws": self.workspace.slug})


# --- action plans ----------------------------------------------------------------------------------
class ActionPlanListView(WorkspacePageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, ws):
        plans = selectors.plans_of_workspace(workspace=self.workspace)
        return render(request, "metrics/plan_list.html", self.get_context_data(plans=plans))


class ActionPlanDetailView(WorkspacePageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _plan(self, plan_id):
        return get_object_or_404(selectors.plans_for_user(user=self.request.user)
                                 .filter(kpi__product__workspace=self.workspace), pk=plan_id)

    def get(self, request, ws, plan_id):
        plan = self._plan(plan_id)
        form = ActionPlanForm(workspace=self.workspace, initial=model_to_dict(plan, fields=["title", "owner", "steps",
                                                                                          "due_date", "status"]))
        return render(request, "metrics/plan_detail.html", self.get_context_data(plan=plan, form=form))

    def post(self, request, ws, plan_id):
        plan = self._plan(plan_id)
        form = ActionPlanForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                services.action_plan_update(user=request.user, plan=plan, data=form.cleaned_data,
                                            version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "action plan")
                return render(request, "metrics/plan_detail.html",
                              self.get_context_data(plan=self._plan(plan_id), form=form), status=409)
            else:
                messages.success(request, "Action plan saved.")
                return redirect("metrics_plan_detail", ws=ws, plan_id=plan.id)
        return render(request, "metrics/plan_detail.html", self.get_context_data(plan=plan, form=form), status=400)
