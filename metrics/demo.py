"""Demo data: "Acme Analytics" with five KPIs and 180 days of values. Idempotent: a value is a pure
function of its date, rows are inserted only where missing, KPIs are get_or_create'd."""

import math
from datetime import timedelta
from decimal import Decimal

from pmhub.clock import today_in
from roadmaps.models import Product

from .models import Kpi, Measurement

DAYS = 180

# name: (unit, direction, aggregation, start, slope/day, wave, target, warning, critical)
DEMO_KPIS = {
    "Weekly active users": ("count", "higher", "last", 1800, 6.0, 120, 3500, 2200, 1900),
    "Activation rate": ("percent", "higher", "average", 32, 0.045, 2.0, 45, 34, 30),
    "Monthly recurring revenue": ("currency", "higher", "last", 42000, 58.0, 700, 60000, 44000, 40000),
    "Churn rate": ("percent", "lower", "average", 3.2, 0.004, 0.3, 2.0, 3.5, 4.0),
    "Time to first insight (min)": ("duration", "lower", "average", 18, -0.02, 1.5, 10, 16, 20),
}


def _value(day, start, slope, wave, offset: int) -> Decimal:
    n = day.toordinal()
    raw = start + slope * offset + wave * math.sin(n / 6.0) + wave * 0.4 * math.cos(n / 2.3)
    return Decimal(str(round(raw, 2)))


def seed(*, workspace, users) -> None:
    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    owner = users.get("pm") or users.get("demo")
    today = today_in(workspace.time_zone)
    first = today - timedelta(days=DAYS - 1)
    for name, (unit, direction, aggregation, start, slope, wave, target, warning, critical) in DEMO_KPIS.items():
        kpi, _ = Kpi.objects.get_or_create(product=product, name=name, defaults={
            "unit": unit, "direction": direction, "aggregation": aggregation, "cadence": Kpi.Cadence.DAILY,
            "owner": owner, "target_value": Decimal(str(target)), "target_date": today + timedelta(days=120),
            "warning_threshold": Decimal(str(warning)), "critical_threshold": Decimal(str(critical)),
            "baseline_value": Decimal(str(start)), "baseline_date": first,
            "description": f"Demo KPI: {name.lower()}."})
        rows = [Measurement(kpi=kpi, period_start=first + timedelta(days=i), source=Measurement.Source.DEMO,
                            value=_value(first + timedelta(days=i), start, slope, wave, i)) for i in range(DAYS)]
        Measurement.objects.bulk_create(rows, ignore_conflicts=True)
        from .services import kpi_health_evaluate, kpi_refresh_current

        kpi_refresh_current(kpi=kpi)
        kpi_health_evaluate(kpi_id=kpi.id)
