"""Demo data of the governance app on "Acme Analytics": a register whose top risk is above the
appetite and touches a timeline initiative, an issue with a mediation log. Idempotent
(get_or_create by title; links and notes only when the item is new)."""

from datetime import timedelta

from backlog.models import Epic
from metrics.models import Kpi
from pmhub.clock import today_in
from roadmaps.models import Initiative, Product, Release

from .models import (
    DEFAULT_APPETITE,
    ChecklistTemplate,
    ChecklistTemplateItem,
    ImpactRevision,
    ImpactStatement,
    IssueNote,
    LaunchItem,
    PortfolioCapacity,
    PortfolioEntry,
    PortfolioSettings,
    ProductGovernance,
    Risk,
)

# title: (kind, likelihood, impact, status, trend, review in days, initiative, release, kpi, owner)
DEMO_RISKS = {
    "Warehouse vendor deprecates the query API": (
        "risk", 4, 5, "mitigating", "rising", -3, "Dashboard builder", "2.0 Self-serve", None, "pm"),
    "Certification needs a legal review we have not booked": (
        "risk", 3, 4, "open", "steady", 14, "Certification workflow", "Metrics GA", None, "pm"),
    "Template gallery depends on one designer": ("risk", 2, 3, "accepted", "falling", 30, "Template gallery",
                                                 None, None, "eng"),
    "Churn may rise while billing export moves": ("risk", 2, 4, "open", "steady", 21, None, None, "Churn rate",
                                                  "demo"),
    "Slow dashboards for the largest customer": ("issue", 5, 4, "open", "rising", 2, "Dashboard builder", None,
                                                 "Time to first insight (min)", "eng"),
}
NOTES = ["Agreed with the customer to cache their ten heaviest dashboards for now.",
         "Decided to move the query planner work ahead of the gallery; PM to tell sales."]


def seed(*, workspace, users) -> None:
    _legacy(workspace, users)
    product = Product.objects.filter(workspace=workspace, name="Acme Analytics").first()
    if product is None:
        return
    today = today_in(workspace.time_zone)
    ProductGovernance.objects.get_or_create(product=product, defaults={"risk_appetite": DEFAULT_APPETITE,
                                                                       "require_impact_statement": True})
    _statements(product, users)
    _change_request_statement(product, users)
    _launch(workspace, product, users)
    _portfolio(workspace, product, users)
    for title, (kind, lk, im, status, trend, review, initiative, release, kpi, owner) in DEMO_RISKS.items():
        risk, created = Risk.objects.get_or_create(product=product, title=title, defaults={
            "kind": kind, "likelihood": lk, "impact": im, "status": status, "trend": trend,
            "owner": users.get(owner) or users.get("demo"), "created_by": users.get("pm") or users.get("demo"),
            "review_date": today + timedelta(days=review), "due_date": today + timedelta(days=abs(review) + 30),
            "description": f"Demo {kind}: {title.lower()}.",
            "mitigation": "- Name an owner\n- Agree the fallback\n- Review every two weeks"})
        if not created:
            continue
        if initiative:
            risk.initiatives.set(Initiative.objects.filter(product=product, title=initiative))
        if release:
            risk.releases.set(Release.objects.filter(product=product, name=release))
        if kpi:
            risk.kpis.set(Kpi.objects.filter(product=product, name=kpi))
        epic = Epic.objects.filter(product=product, initiative__title=initiative).first() if initiative else None
        if epic is not None:
            risk.epics.add(epic)
        if kind == "issue":
            for text in NOTES:
                IssueNote.objects.create(risk=risk, author=users.get("pm") or users.get("demo"), text=text)


def _statements(product, users) -> None:
    """"Lineage view" waits for approval (revision 2; revision 1 was rejected with a comment);
    "Certification workflow", already planned, has an approved statement."""
    from django.utils import timezone

    pm, admin = users.get("pm") or users.get("demo"), users.get("demo")
    rows = {
        "Lineage view": (ImpactStatement.Status.AWAITING, [
            ("Analysts trust a metric when they see where it comes from: fewer support tickets about numbers.",
             48000, "rejected", "Give the cost of the warehouse changes, and who maintains the lineage."),
            ("Analysts trust a metric when they see where it comes from: about 30% fewer support tickets about "
             "numbers (support estimate).", 62000, None, ""),
        ]),
        "Certification workflow": (ImpactStatement.Status.APPROVED, [
            ("Certified metrics for the finance team's board pack.", 35000, "approved", "Worth it for finance."),
        ]),
    }
    for title, (status, revisions) in rows.items():
        initiative = Initiative.objects.filter(product=product, title=title).first()
        if initiative is None or ImpactStatement.objects.filter(initiative=initiative).exists():
            continue
        statement = ImpactStatement.objects.create(
            product=product, initiative=initiative, status=status, revision=len(revisions), requested_by=pm,
            submitted_at=timezone.now(), notified_revision=len(revisions))
        for number, (benefit, cost, decision, comment) in enumerate(revisions, start=1):
            ImpactRevision.objects.create(
                statement=statement, number=number, benefit=benefit, cost=cost, author=pm,
                processes="Monthly reporting; metric sign-off", people="Analysts, data engineering, finance",
                risk="Warehouse changes may slip", assumptions="The warehouse exposes column lineage")
            if decision:
                statement.decisions.create(revision=number, approver=admin, decision=decision, comment=comment,
                                           requester_notified=True)


def _change_request_statement(product, users) -> None:
    """A pending change request on the next planned release, adding a story from the backlog, with a
    business impact statement awaiting approval (the release page's panel links to it)."""
    from django.utils import timezone

    from backlog.models import Story
    from delivery.models import ChangeRequest

    if ImpactStatement.objects.filter(product=product, change_request__isnull=False).exists():
        return
    release = Release.objects.filter(product=product, status="planned").order_by("release_date", "id").first()
    story = (Story.objects.filter(product=product).exclude(release_scope_items__release=release)
             .exclude(status="done").order_by("id").first()
             if release is not None else None)
    if story is None:
        return
    pm = users.get("pm") or users.get("demo")
    change, _ = ChangeRequest.objects.get_or_create(
        release=release, story=story, kind=ChangeRequest.Kind.ADD, status=ChangeRequest.Status.PENDING,
        defaults={"reason": "A design partner asked for it before the launch.", "points_delta": story.points or 0,
                  "proposed_by": pm})
    statement = ImpactStatement.objects.create(product=product, change_request=change,
                                               status=ImpactStatement.Status.AWAITING, revision=1, requested_by=pm,
                                               submitted_at=timezone.now(), notified_revision=1)
    ImpactRevision.objects.create(statement=statement, number=1, author=pm, cost=6000,
                                  benefit="Keeps the design partner's renewal (about 40k a year) on track.",
                                  people="Two engineers for a week", risk="The release may slip by three days")


TEMPLATE_ITEMS = [
    ("documentation", "Release notes and help-centre articles", True, 7),
    ("marketing", "Launch blog post and e-mail", True, 3),
    ("sales", "Sales deck and demo script", True, 10),
    ("support", "Support team trained, macros ready", True, 5),
    ("legal", "Privacy and terms review", True, 14),
    ("marketing", "Social posts scheduled", False, 1),
]


def _launch(workspace, product, users) -> None:
    """A workspace template, and "2.0 Self-serve"'s checklist half done (3 of 6 items ticked)."""
    from django.utils import timezone

    template, created = ChecklistTemplate.objects.get_or_create(workspace=workspace, name="Standard launch")
    if created:
        ChecklistTemplateItem.objects.bulk_create([
            ChecklistTemplateItem(template=template, category=c, title=t, required=r, days_before=d, position=i)
            for i, (c, t, r, d) in enumerate(TEMPLATE_ITEMS)])
    release = Release.objects.filter(product=product, name="2.0 Self-serve").first()
    if release is None or LaunchItem.objects.filter(release=release).exists():
        return
    owners = [users.get("pm"), users.get("eng"), users.get("demo")]
    for i, (category, title, required, days) in enumerate(TEMPLATE_ITEMS):
        done = i in (0, 3, 5)  # documentation, support and the optional social posts: half the list
        LaunchItem.objects.create(
            release=release, category=category, title=title, required=required, position=i,
            owner=owners[i % 3] or users.get("demo"),
            due_date=release.release_date - timedelta(days=days) if release.release_date else None,
            done_at=timezone.now() if done else None, done_by=users.get("pm") if done else None)


# title: (value, time criticality, risk reduction, cost in person-weeks, decision, reason)
PORTFOLIO = {
    "Dashboard builder": (9, 8, 5, 12, "fund", "The self-serve release depends on it."),
    "Template gallery": (6, 5, 3, 6, "fund", "Cheap, and sales asks for it."),
    "Slack digests": (5, 3, 2, 4, "", ""),
    "Metric catalogue": (8, 6, 7, 10, "fund", "Finance needs certified metrics this year."),
    "Certification workflow": (7, 5, 6, 8, "", ""),
    "Lineage view": (6, 3, 6, 14, "defer", "Wait for the statement's cost estimate."),
    "Embedded analytics": (8, 2, 2, 30, "stop", "Not this year: partner route instead."),
}


def _portfolio(workspace, product, users) -> None:
    """WSJF over the demo's initiatives, capacity for four quarters, three decisions."""
    from django.utils import timezone

    from pmhub.clock import today_in

    PortfolioSettings.objects.get_or_create(workspace=workspace)
    today = today_in(workspace.time_zone)
    for k in range(4):
        month = today.month - 1 + 3 * k
        year, quarter = today.year + month // 12, (month % 12) // 3 + 1
        PortfolioCapacity.objects.get_or_create(workspace=workspace, quarter=f"{year}-Q{quarter}",
                                                defaults={"capacity": 24})
    for title, (value, tc, rr, cost, decision, reason) in PORTFOLIO.items():
        initiative = Initiative.objects.filter(product=product, title=title).first()
        if initiative is None or PortfolioEntry.objects.filter(initiative=initiative).exists():
            continue
        PortfolioEntry.objects.create(
            initiative=initiative, value=value, time_criticality=tc, risk_reduction=rr, cost=cost,
            decision=decision, reason=reason, decided_by=users.get("demo") if decision else None,
            decided_at=timezone.now() if decision else None)


def _legacy(workspace, users) -> None:
    """"Acme Legacy Reports", in maturity, whose KPI fell four months in a row: the worker's own
    evaluation proposes the decline stage (run here once; the beat entry does it daily)."""
    from decimal import Decimal

    from metrics.models import Kpi, Measurement
    from pmhub.clock import today_in

    from .lifecycle import month_starts
    from .services import lifecycle_evaluate

    product, created = Product.objects.get_or_create(workspace=workspace, name="Acme Legacy Reports", defaults={
        "vision": "The scheduled PDF reports customers used before dashboards."})
    row, _ = ProductGovernance.objects.get_or_create(product=product, defaults={"stage": "maturity"})
    if not created:
        return
    kpi = Kpi.objects.create(product=product, name="Teams sending scheduled reports", cadence=Kpi.Cadence.MONTHLY,
                             aggregation=Kpi.Aggregation.LAST, owner=users.get("pm") or users.get("demo"))
    today = today_in(workspace.time_zone)
    for month, value in zip(month_starts(today, 4), (420, 380, 330, 290), strict=True):
        Measurement.objects.create(kpi=kpi, period_start=month, value=Decimal(value), source=Measurement.Source.DEMO)
    lifecycle_evaluate(product_id=product.id, today=today)
