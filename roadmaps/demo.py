"""Demo data: the product "Acme Analytics" with strategy, objectives, a roadmap, releases and
dependencies. Idempotent: everything is found by name first, so a second run changes nothing."""

from datetime import date, timedelta
from decimal import Decimal

from pmhub.clock import today_in

from .models import (
    BusinessCase,
    Capability,
    CapabilityRating,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Objective,
    Product,
    Release,
    Segment,
)

VISION = """Every product team at Acme **decides with data**, not opinions.

- Self-serve dashboards in minutes
- Trustworthy metrics, one definition each
- Insights delivered where people work
"""


def seed(*, workspace, users) -> None:
    pm = users.get("pm") or users.get("demo")
    eng = users.get("eng") or pm
    product, _ = Product.objects.get_or_create(workspace=workspace, name="Acme Analytics",
                                               defaults={"vision": VISION})
    BusinessCase.objects.get_or_create(product=product, defaults={
        "problem": "Teams wait days for analysts to answer simple questions.",
        "expected_value": "Save 2,000 analyst hours a year; lift retention by 3 points.",
        "cost": "Two squads for three quarters (about EUR 900k).",
        "risks": "- Data quality in legacy sources\n- Adoption by non-technical users"})
    for name, needs, size in [("Product managers", "Quick answers about feature adoption.", "4,000 users"),
                              ("Executives", "A weekly view of the KPIs that matter.", "300 users")]:
        Segment.objects.get_or_create(product=product, name=name, defaults={"needs": needs, "size": size})
    competitors = {}
    for name, strengths, weaknesses in [("Lookr", "Powerful modelling layer.", "Steep learning curve."),
                                        ("Metabasin", "Open source, cheap to start.", "Weak governance.")]:
        competitors[name], _ = Competitor.objects.get_or_create(
            product=product, name=name, defaults={"strengths": strengths, "weaknesses": weaknesses})
    grid = [("Self-serve dashboards", "yes", {"Lookr": "partial", "Metabasin": "yes"}),
            ("Metric definitions", "partial", {"Lookr": "yes", "Metabasin": "no"}),
            ("Slack digests", "yes", {"Lookr": "no", "Metabasin": "partial"})]
    for name, ours, levels in grid:
        capability, _ = Capability.objects.get_or_create(product=product, name=name, defaults={"ours": ours})
        for comp, level in levels.items():
            CapabilityRating.objects.get_or_create(competitor=competitors[comp], capability=capability,
                                                   defaults={"level": level})
    today = today_in(workspace.time_zone)
    q_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    q_end = (date(q_start.year + (q_start.month == 10), (q_start.month + 2) % 12 + 1, 1) - timedelta(days=1))
    quarter = f"{q_start.year}-Q{(q_start.month - 1) // 3 + 1}"
    o1, _ = Objective.objects.get_or_create(product=product, title="Make self-serve the default", defaults={
        "quarter": quarter, "start_date": q_start, "end_date": q_end})
    o2, _ = Objective.objects.get_or_create(product=product, title="Trusted metrics", defaults={
        "quarter": quarter, "start_date": q_start, "end_date": q_end})
    for objective, title, start, target, current, unit in [
        (o1, "Weekly active dashboard creators", 120, 400, 210, "users"),
        (o1, "Median time to first dashboard", 45, 10, 30, "min"),
        (o2, "Certified metrics", 0, 50, 18, "metrics"),
    ]:
        KeyResult.objects.get_or_create(objective=objective, title=title, defaults={
            "start_value": Decimal(start), "target_value": Decimal(target), "current_value": Decimal(current),
            "unit": unit, "owner": pm})
    r1, _ = Release.objects.get_or_create(product=product, name="2.0 Self-serve", defaults={
        "release_date": today + timedelta(days=45)})
    r2, _ = Release.objects.get_or_create(product=product, name="Metrics GA", defaults={
        "release_date": today + timedelta(days=120), "kind": Release.Kind.MILESTONE})
    S = Initiative.Status
    rows = [
        ("Dashboard builder", S.IN_PROGRESS, "now", -30, 40, o1, r1, "growth", pm),
        ("Template gallery", S.PLANNED, "now", 20, 60, o1, r1, "growth", eng),
        ("Slack digests", S.PLANNED, "next", 50, 100, o1, None, "engagement", pm),
        ("Metric catalogue", S.IN_PROGRESS, "now", -10, 70, o2, r2, "governance", eng),
        ("Certification workflow", S.PLANNED, "next", 60, 120, o2, r2, "governance", pm),
        ("Lineage view", S.PROPOSED, "later", 130, 200, o2, None, "governance", eng),
        ("Embedded analytics", S.PROPOSED, "later", None, None, None, None, "platform", None),
        ("Usage billing export", S.DONE, "now", -90, -20, None, None, "platform", eng),
    ]
    by_title = {}
    for rank, (title, status, horizon, start, end, objective, release, label, owner) in enumerate(rows):
        initiative, created = Initiative.objects.get_or_create(product=product, title=title, defaults={
            "status": status, "horizon": horizon, "release": release, "labels": f",{label},", "owner": owner,
            "start_date": today + timedelta(days=start) if start is not None else None,
            "end_date": today + timedelta(days=end) if end is not None else None, "rank": rank,
            "confidence": 70})
        if created and objective:
            initiative.objectives.add(objective)
        by_title[title] = initiative
    # The second dependency conflicts on purpose (the catalogue ends after certification starts).
    for blocker, blocked in [("Dashboard builder", "Slack digests"), ("Metric catalogue", "Certification workflow")]:
        Dependency.objects.get_or_create(blocker=by_title[blocker], blocked=by_title[blocked])
