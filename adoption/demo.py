"""Demo data: product "Acme Analytics" with four features and ~60 days of generated usage.

Idempotent: the events are generated only when the product has none, with a fixed random seed
and ids derived from (feature, day, n), so a second run changes nothing.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .models import Feature, ProductDaily, UsageEvent
from .rollups import local_today, rollup_day

DAYS = 60
ACTORS = 160
FEATURES = [
    # key, name, target %, base daily probability of use, growth per day, weekly return probability
    ("dashboards", "Dashboards", Decimal("60"), 0.55, 0.001, 0.8),
    ("alerts", "Alerts", Decimal("35"), 0.15, 0.004, 0.6),
    ("exports", "CSV exports", Decimal("20"), 0.12, -0.001, 0.4),
    ("sharing", "Share links", Decimal("30"), 0.05, 0.003, 0.5),
]


def seed(*, workspace, users):
    from metrics.models import Kpi
    from roadmaps.models import Product

    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics")
    kpi, _ = Kpi.objects.get_or_create(product=product, name="Alerts adoption",
                                       defaults={"unit": "percent", "target_value": Decimal("35")})
    for key, name, target, *_ in FEATURES:
        Feature.objects.get_or_create(product=product, key=key, defaults={
            "name": name, "target_percent": target, "kpi": kpi if key == "alerts" else None})
    _seed_outcomes(product=product, kpi=kpi, tz_name=workspace.time_zone)
    if UsageEvent.objects.filter(product=product).exists():
        return product
    tz = ZoneInfo(workspace.time_zone)
    today = local_today(workspace.time_zone)
    start = today - timedelta(days=DAYS - 1)
    rng = random.Random(20261126)  # noqa: S311 - demo data, deterministic on purpose
    events = []
    for offset in range(DAYS):
        day = start + timedelta(days=offset)
        weekday_factor = 0.55 if day.weekday() >= 5 else 1.0
        for actor in range(ACTORS):
            if rng.random() > 0.45 * weekday_factor:
                continue  # not active today
            for key, _name, _target, base, growth, _ in FEATURES:
                if rng.random() < max(0.01, base + growth * offset):
                    for n in range(1 + int(rng.random() * 3)):
                        at = datetime.combine(day, time(8 + rng.randrange(12), rng.randrange(60)), tzinfo=tz)
                        events.append(UsageEvent(product=product, event_id=f"demo-{key}-{day}-{actor}-{n}",
                                                 feature_key=key, actor=f"account-{actor}", occurred_at=at))
    UsageEvent.objects.bulk_create(events, batch_size=2000, ignore_conflicts=True)
    if not ProductDaily.objects.filter(product=product).exists():
        for offset in range(DAYS):
            rollup_day(product_id=product.id, day=start + timedelta(days=offset), tz_name=workspace.time_zone)
        from .services import feature_kpis_sync

        feature_kpis_sync(product_id=product.id, tz_name=workspace.time_zone)
    return product


# Shipped epics with their score at release and the KPI measured 30 and 90 days later.
OUTCOMES = [
    # epic title, score, reach, impact, baseline, value after 30 days, after 90 days (None: not due)
    ("Alert digests by e-mail", 84.0, 4000, 2.0, "31.0", "38.5", "44.0"),
    ("Slack alert channel", 62.0, 2500, 2.0, "31.0", "35.0", "39.5"),
    ("Threshold presets", 45.0, 3000, 1.0, "31.0", "33.5", "32.0"),
    ("Alert snoozing", 30.0, 1200, 1.0, "31.0", "31.5", "33.0"),
    ("Mobile push alerts", 22.0, 800, 0.5, "31.0", "30.0", None),
]


def _seed_outcomes(*, product, kpi, tz_name):
    from backlog.models import Epic
    from roadmaps.models import Release

    from .models import OutcomeCheckpoint, OutcomeReview

    released_at = datetime.combine(local_today(tz_name) - timedelta(days=95), time(12), tzinfo=ZoneInfo(tz_name))
    release, _ = Release.objects.get_or_create(product=product, name="2026.8 Alerts", defaults={
        "status": "released", "released_at": released_at, "release_date": released_at.date()})
    for title, score, reach, impact, baseline, after_30, after_90 in OUTCOMES:
        epic, _ = Epic.objects.get_or_create(product=product, title=title, defaults={"release": release,
                                                                                    "status": "done"})
        review, created = OutcomeReview.objects.get_or_create(epic=epic, kpi=kpi, defaults={
            "product": product, "release": release, "released_at": release.released_at,
            "baseline_value": Decimal(baseline), "baseline_at": release.released_at.date(),
            "predicted": {"score": score, "reach": float(reach), "impact": impact}, "predicted_score": score})
        if created:
            for days, value in ((30, after_30), (90, after_90)):
                due = review.released_at + timedelta(days=days)
                OutcomeCheckpoint.objects.create(review=review, window_days=days, due_at=due,
                                                 value=Decimal(value) if value else None,
                                                 measured_at=due if value else None)
