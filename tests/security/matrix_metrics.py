"""Tenancy-matrix entries of the metrics app. Format: see tests/security/README.md.

Builders reuse the metrics tests' factories (tests/metrics/factories.py). Payloads of the refused
page writes are valid forms, so a missing role check would really write and the snapshot would see it.
"""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict

from metrics.models import ActionPlan, Health, KpiHealth, Measurement, MeasurementUpload
from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.metrics.factories import KpiFactory, MeasurementFactory, ProductFactory

from .matrix import Exempt, Route

# Product and KPI pages resolve the product (roadmaps.pages.ProductPageMixin) and the KPI
# (metrics.views.KpiPageMixin) in dispatch(), before the method is looked at: in the matrix's IDOR case
# (the stranger's own `ws`, the victim's ids) a method the view does not offer answers 404, where the
# matrix expects 405. 404 reveals less than 405, but the matrix cannot express it; these single-method
# routes are therefore exempt and covered by tests/metrics/test_tenancy.py (outsider 404 on every page
# and method incl. the foreign-KPI-under-own-product case, viewer 403 on every write, rows unchanged).
_IDOR_404 = ("single-method product/KPI page: the product and KPI are resolved before the method, so the "
             "IDOR case answers 404 for the method not offered (matrix expects 405); isolation and roles "
             "are asserted for every method in tests/metrics/test_tenancy.py")


def _row(obj):
    row = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if row is None else model_to_dict(row)


def _product(ws):
    return ProductFactory(workspace=ws)


def _kpi(ws):
    return KpiFactory(product=_product(ws), critical_threshold=10)


def _measurement(ws):
    return MeasurementFactory(kpi=_kpi(ws), period_start=date(2026, 11, 2), value=5)


def _health(ws):
    kpi = _kpi(ws)
    return KpiHealth.objects.create(kpi=kpi, status=Health.OFF_TRACK, previous_status=Health.UNKNOWN, value=5,
                                    reason="Below the critical threshold.")


def _plan(ws):
    return ActionPlan.objects.create(kpi=_kpi(ws), title="Recover signups", steps="- call churned users")


def _upload(ws):
    """A staged CSV of another member (an editor): only its author may preview or confirm it."""
    author = UserFactory()
    MembershipFactory(user=author, workspace=ws, role=Role.EDITOR)
    return MeasurementUpload.objects.create(kpi=_kpi(ws), created_by=author, filename="values.csv",
                                            rows=[{"line": 2, "period": "2026-11-02", "value": "3"}], errors=[])


def _kpi_kwargs(kpi):
    return {"product_id": kpi.product_id, "kpi_id": kpi.id}


def _kpi_form(kpi=None):
    data = {"name": "Pwned", "unit": "count", "direction": "higher", "aggregation": "sum", "cadence": "daily"}
    if kpi is not None:
        data["version"] = kpi.version
    return data


def _kpis_of(product):
    return (_row(product), sorted(product.kpis.values_list("id", "name", "version")))


def _kpi_and_measurements(kpi):
    return (_row(kpi), sorted(Measurement.objects.filter(kpi_id=kpi.id).values_list("id", "period_start", "value")))


def _kpi_and_uploads(kpi):
    return (_row(kpi), sorted(MeasurementUpload.objects.filter(kpi_id=kpi.id).values_list("id", "confirmed_at")))


def _kpi_and_plans(kpi):
    return (_row(kpi), sorted(ActionPlan.objects.filter(kpi_id=kpi.id).values_list("id", "status", "title")))


def _upload_and_measurements(upload):
    return (_row(upload), sorted(Measurement.objects.filter(kpi_id=upload.kpi_id).values_list("id", "value")))


# API: router basename -> Route (covers every detail route of the viewset, incl. @action(detail=True)).
API = {
    "kpi": Route(build=_kpi, payload=lambda k: {"name": "Pwned", "critical_threshold": "999", "version": k.version}),
    "measurement": Route(build=_measurement, payload=lambda m: {"kpi": m.kpi_id, "value": "999", "period": "2026-11-02"},
                         snapshot=lambda m: _kpi_and_measurements(m.kpi)),
    "kpi-health": Route(build=_health, payload=lambda h: {"status": "on_track"}),
    "action-plan": Route(build=_plan, payload=lambda p: {"title": "Pwned", "status": "closed"}),
}

# Pages: URL name -> Route. Workspace-level pages (dashboards, plan list) need no entry.
PAGES = {
    "metrics_kpi_list": Route(build=_product, payload=lambda p: _kpi_form(), snapshot=_kpis_of),
    "metrics_kpi_detail": Route(build=_kpi, kwargs=_kpi_kwargs, payload=_kpi_form),
    "metrics_kpi_delete": Exempt(_IDOR_404),
    "metrics_measurement_add": Exempt(_IDOR_404),
    "metrics_measurement_delete": Exempt(_IDOR_404),
    "metrics_upload_create": Exempt(_IDOR_404),
    # A staged upload belongs to the member who uploaded it (selectors.upload_for_user filters on
    # created_by): another admin of the same workspace is the stranger, and confirming writes nothing.
    "metrics_upload": Route(
        build=_upload,
        kwargs=lambda u: {"product_id": u.kpi.product_id, "kpi_id": u.kpi_id, "upload_id": u.id},
        snapshot=_upload_and_measurements, owner_scoped=True),
    "metrics_upload_reading": Exempt(
        "GET-only htmx partial polled while the worker reads an upload: any other method is 405 before "
        "a lookup (reveals nothing); its GET is 404 for another member and for another workspace "
        "(tests/metrics/test_upload_worker.py, tests/metrics/test_tenancy.py)"),
    "metrics_plan_create": Exempt(_IDOR_404),
    "metrics_product_dashboard": Exempt(_IDOR_404),
    "metrics_product_dashboard_data": Exempt(_IDOR_404),
    "metrics_product_dashboard_csv": Exempt(_IDOR_404),
    "metrics_plan_detail": Route(build=_plan, payload=lambda p: {"title": "Pwned", "status": "closed"}),
}

# The exempt routes' entries, ready for the day the matrix accepts 404 for an unoffered method in
# the IDOR case (or ProductPageMixin answers 405 first): move them into PAGES then.
ENTRIES_BLOCKED_BY_IDOR_405 = {
    "metrics_kpi_delete": Route(build=_kpi, kwargs=_kpi_kwargs, snapshot=_kpi_and_measurements),
    "metrics_measurement_add": Route(build=_kpi, kwargs=_kpi_kwargs,
                                     payload=lambda k: {"period": "2026-11-03", "value": "999"},
                                     snapshot=_kpi_and_measurements),
    "metrics_measurement_delete": Route(
        build=_measurement,
        kwargs=lambda m: {"product_id": m.kpi.product_id, "kpi_id": m.kpi_id, "measurement_id": m.id},
        snapshot=lambda m: _kpi_and_measurements(m.kpi)),
    "metrics_upload_create": Route(
        build=_kpi, kwargs=_kpi_kwargs,
        payload=lambda k: {"file": SimpleUploadedFile("values.csv", b"period,value\n2026-11-04,7\n", "text/csv")},
        snapshot=_kpi_and_uploads),
    "metrics_plan_create": Route(build=_kpi, kwargs=_kpi_kwargs, payload=lambda k: {"title": "Pwned"},
                                 snapshot=_kpi_and_plans),
    "metrics_product_dashboard": Route(build=_product),
    "metrics_product_dashboard_data": Route(build=_product),
    "metrics_product_dashboard_csv": Route(build=_product),
}

API_BASE_EXCEPTIONS: dict[str, str] = {}
