"""Metrics: 50 KPIs with two years of daily measurements; product and workspace dashboards.

Filled after the metrics merge: metrics.Measurement (kpi, period_start, value Decimal, source
default "manual"; unique per kpi and period); dashboards /w/<ws>/products/<id>/dashboard/ and
/w/<ws>/dashboard/, charting the default range (DASHBOARD_DAYS).
"""

from datetime import timedelta
from decimal import Decimal

from bench.generate import insert_rows
from bench.harness import Budget, Result, bare_select, guarded, measure_request, model
from pmhub.clock import today_in

BENCH_TZ = "UTC"  # the bench workspace's time zone (bench.generate)

NAME = "metrics"
ORDER = 30
REQUIRES = ("metrics.Kpi",)
MEASURES = ("product dashboard (HTML)", "workspace dashboard (HTML)")

MEASUREMENT_MODELS = ("metrics.Measurement",)
PRODUCT_DASHBOARD = "/w/{ws}/products/{product}/dashboard/"
WORKSPACE_DASHBOARD = "/w/{ws}/dashboard/"
DASHBOARD_DAYS = 90  # TODO(merge): the window the dashboards chart

KPI_NAMES = ["Weekly active users", "Activation rate", "Churn rate", "NPS", "Time to value", "Trial conversion",
             "Tickets per account", "Revenue per account", "Feature adoption", "Page load p75", "Crash-free sessions",
             "Retention day 30", "Expansion revenue", "Signups", "Support CSAT"]


def measurement_model():
    for label in MEASUREMENT_MODELS:
        found = model(label)
        if found is not None:
            return found
    return None


def generate(ctx) -> None:
    Kpi = model("metrics.Kpi")
    rng, scale = ctx.rng, ctx.scale
    rows = []
    others = ctx.products[1:] or ctx.products
    for i in range(scale.kpis):
        product = ctx.product if i < scale.kpis_largest else others[i % len(others)]
        lower = rng.random() < 0.25
        rows.append({
            "product_id": product.pk, "name": f"{KPI_NAMES[i % len(KPI_NAMES)]} {i + 1}",
            "unit": rng.choice(["count", "%", "ms", "EUR"]), "direction": "lower" if lower else "higher",
            "owner_id": rng.choice(ctx.users).pk,
            "target_value": Decimal(rng.randint(100, 10_000)),
            "target_date": today_in(BENCH_TZ) + timedelta(days=rng.randint(30, 365)),
        })
    kpis = insert_rows(ctx, Kpi, rows, copy=False)
    ctx.data["kpi_ids"] = [k.pk for k in kpis]

    Measurement = measurement_model()
    if Measurement is None:
        ctx.notes.append("metrics: no measurement model yet; 0 measurements generated")
        return
    today = today_in(BENCH_TZ)
    days = scale.measurement_days
    start = today - timedelta(days=days - 1)

    fk, period, value_name, decimal = _measurement_columns(Measurement)

    def measurements():
        for kpi in kpis:
            value = float(rng.randint(100, 10_000))
            for d in range(days):
                value = max(0.0, value * (1 + rng.gauss(0.001, 0.02)))
                row = {fk: kpi.pk}
                if period:
                    row[period] = start + timedelta(days=d)
                if value_name:
                    row[value_name] = Decimal(f"{value:.2f}") if decimal else round(value, 2)
                yield row

    insert_rows(ctx, Measurement, measurements(), copy=True)
    # The KPI's denormalised "latest" date, as the measurement service would leave it.
    Kpi.objects.filter(pk__in=[k.pk for k in kpis]).update(current_at=today)


def _measurement_columns(Measurement) -> tuple[str, str | None, str | None, bool]:
    """(kpi FK attname, period DateField attname, value attname, value is Decimal): kpi_id, period_start, value."""
    Kpi = model("metrics.Kpi")
    fields = Measurement._meta.concrete_fields
    fk = next(f for f in fields if f.is_relation and f.related_model is Kpi)
    date_field = next((f for f in fields if f.get_internal_type() == "DateField"), None)
    value_field = next((f for f in fields if not f.is_relation and not f.primary_key
                        and f.get_internal_type() in ("DecimalField", "FloatField", "IntegerField", "BigIntegerField")),
                       None)
    return (fk.attname, date_field.attname if date_field else None, value_field.attname if value_field else None,
            bool(value_field and value_field.get_internal_type() == "DecimalField"))


def measure(ctx) -> list[Result]:
    return [_product_dashboard(ctx), _workspace_dashboard(ctx)]


def pages(ctx) -> list[tuple[str, str]]:
    return [("product dashboard", PRODUCT_DASHBOARD.format(ws=ctx.workspace.slug, product=ctx.product.pk)),
            ("workspace dashboard", WORKSPACE_DASHBOARD.format(ws=ctx.workspace.slug))]


def _dashboard_bare(ctx, product_ids: list[int]):
    Kpi = model("metrics.Kpi")
    marks = ", ".join(["%s"] * len(product_ids))
    statements = [bare_select(Kpi, where=f'"product_id" IN ({marks})', params=product_ids, order='"name"')]
    Measurement = measurement_model()
    if Measurement is not None:
        fields = Measurement._meta.concrete_fields
        fk = next(f for f in fields if f.is_relation and f.related_model is Kpi)
        date_field = next((f for f in fields if f.get_internal_type() == "DateField"), None)
        since = today_in(BENCH_TZ) - timedelta(days=DASHBOARD_DAYS)
        where = f'"{fk.column}" IN (SELECT "id" FROM "{Kpi._meta.db_table}" WHERE "product_id" IN ({marks}))'
        params = list(product_ids)
        if date_field is not None:
            where += f' AND "{date_field.column}" >= %s'
            params.append(since)
        statements.append(bare_select(Measurement, where=where, params=params, order=""))
    return statements


DASHBOARD_BUDGET = Budget(median=0.150)


@guarded("product dashboard (HTML)", case=NAME)
def _product_dashboard(ctx) -> Result:
    return measure_request(
        ctx, name="product dashboard (HTML)", case=NAME, budget=DASHBOARD_BUDGET,
        path=PRODUCT_DASHBOARD.format(ws=ctx.workspace.slug, product=ctx.product.pk),
        bare=_dashboard_bare(ctx, [ctx.product.pk]), note=f"{ctx.scale.kpis_largest} KPIs",
    )


@guarded("workspace dashboard (HTML)", case=NAME)
def _workspace_dashboard(ctx) -> Result:
    return measure_request(
        ctx, name="workspace dashboard (HTML)", case=NAME, budget=DASHBOARD_BUDGET,
        path=WORKSPACE_DASHBOARD.format(ws=ctx.workspace.slug),
        bare=_dashboard_bare(ctx, [p.pk for p in ctx.products]),
        note=f"{ctx.scale.kpis} KPIs over {len(ctx.products)} products",
    )
