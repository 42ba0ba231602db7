"""Reads of the governance app: the register with its filters, the heat map, and the risks above
appetite per roadmap item, product and workspace (each a fixed number of queries)."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from pmhub.access import workspace_ids_for
from pmhub.prepared import Prepared

from .models import DEFAULT_APPETITE, ImpactStatement, ProductGovernance, Risk
from .scoring import SCALE, heat_map

FILTERS = ("kind", "status", "owner", "likelihood", "impact", "above", "q")


def appetite_of(*, product) -> int:
    row = ProductGovernance.objects.filter(product=product).values_list("risk_appetite", flat=True).first()
    return row if row is not None else DEFAULT_APPETITE


def _appetite_subquery(product_ref: str = "product_id"):
    return Coalesce(Subquery(ProductGovernance.objects.filter(product_id=OuterRef(product_ref))
                             .values("risk_appetite")[:1], output_field=IntegerField()),
                    Value(DEFAULT_APPETITE))


def risks_annotated(qs: QuerySet[Risk]) -> QuerySet[Risk]:
    """Risks with `appetite` (their product's) and `above` (open and score > appetite)."""
    return qs.annotate(appetite=_appetite_subquery()).annotate(
        above=Q(score__gt=F("appetite")) & ~Q(status=Risk.Status.CLOSED))


def risks_for_user(*, user) -> QuerySet[Risk]:
    return Risk.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def risk_for_product(*, product, risk_id: int) -> Risk:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(risks_annotated(Risk.objects.filter(product=product)).select_related("owner"),
                             pk=risk_id)


def _clean_int(value, allowed) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in allowed else None


def register_filters(params) -> dict:
    """The filters a register URL names, cleaned (an unknown value is no filter)."""
    return {
        "kind": params.get("kind") if params.get("kind") in Risk.Kind.values else "",
        "status": params.get("status") if params.get("status") in (*Risk.Status.values, "all") else "",
        "owner": _clean_int(params.get("owner"), range(1, 2**31)),
        "likelihood": _clean_int(params.get("likelihood"), SCALE),
        "impact": _clean_int(params.get("impact"), SCALE),
        "above": params.get("above") == "1",
        "q": (params.get("q") or "").strip()[:100],
    }


def register_for_product(*, product, filters: dict) -> QuerySet[Risk]:
    """The product's register, filtered; by default the items that are not closed."""
    qs = risks_annotated(Risk.objects.filter(product=product)).select_related("owner")
    if filters.get("status") and filters["status"] != "all":
        qs = qs.filter(status=filters["status"])
    elif not filters.get("status"):
        qs = qs.exclude(status=Risk.Status.CLOSED)
    for key in ("kind", "likelihood", "impact"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    if filters.get("owner"):
        qs = qs.filter(owner_id=filters["owner"])
    if filters.get("above"):
        qs = qs.filter(score__gt=F("appetite")).exclude(status=Risk.Status.CLOSED)
    if filters.get("q"):
        qs = qs.filter(title__icontains=filters["q"])
    return qs.order_by("-score", "id")


def heat_map_for_product(*, product, appetite: int) -> list[list[dict]]:
    """The 5x5 grid of the product's open risks and issues (one query)."""
    rows = (Risk.objects.filter(product=product).exclude(status=Risk.Status.CLOSED)
            .values("likelihood", "impact").annotate(n=Count("id")))
    return heat_map({(r["likelihood"], r["impact"]): r["n"] for r in rows}, appetite)


def above_appetite(qs: QuerySet[Risk]) -> QuerySet[Risk]:
    return risks_annotated(qs.exclude(status=Risk.Status.CLOSED)).filter(score__gt=F("appetite"))


def flags_for_initiatives(*, initiative_ids) -> dict[int, list[dict]]:
    """{initiative id: [{id, title, score, appetite}]} of the open risks above appetite linked to
    each initiative (one query), highest score first: the roadmap's flags."""
    ids = list(initiative_ids)
    if not ids:
        return {}
    rows = (above_appetite(Risk.objects.filter(initiatives__in=ids))
            .annotate(initiative_id=F("initiatives__id"))
            .values("initiative_id", "id", "title", "score", "appetite", "product_id")
            .order_by("-score", "id"))
    flags: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        flags[r["initiative_id"]].append(r)
    return dict(flags)


# The columns first, the annotations after them in the order they were made: the order of the
# compiled query's rows, which Prepared.rows answers as they are.
_FLAG_FIELDS = ("id", "title", "score", "product_id", "appetite", "initiative_id")
# The flags of every initiative of one product, compiled once per process (pmhub.prepared): the
# timeline's read by a list of 300 initiative ids cost more in the ORM (building the query,
# preparing each id) than in PostgreSQL (decision 2130).
_FLAGS_OF_PRODUCT = Prepared(Risk, lambda product_id, *_: (
    above_appetite(Risk.objects.filter(initiatives__product_id=product_id))
    .annotate(initiative_id=F("initiatives__id")).values_list(*_FLAG_FIELDS).order_by("-score", "id")))


def flags_for_product_initiatives(*, product_id: int) -> dict[int, list[dict]]:
    """flags_for_initiatives of every initiative of a product (the same rows, one query compiled
    once): a page that shows some of them looks its ones up."""
    flags: dict[int, list[dict]] = defaultdict(list)
    for row in _FLAGS_OF_PRODUCT.rows(product_id):
        flags[row[-1]].append(dict(zip(_FLAG_FIELDS, row, strict=True)))
    return dict(flags)


def flags_for_releases(*, release_ids) -> dict[int, list[dict]]:
    ids = list(release_ids)
    if not ids:
        return {}
    rows = (above_appetite(Risk.objects.filter(releases__in=ids)).annotate(release_id=F("releases__id"))
            .values("release_id", "id", "title", "score", "appetite", "product_id").order_by("-score", "id"))
    flags: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        flags[r["release_id"]].append(r)
    return dict(flags)


def above_appetite_for_products(*, products, limit: int = 100) -> list[Risk]:
    """Open risks above their product's appetite across `products` (dashboards, report, the home
    panel's first five): one query, at most `limit` rows."""
    return list(above_appetite(Risk.objects.filter(product__in=products, product__deleted_at__isnull=True))
                .select_related("product", "owner").order_by("-score", "product__name", "id")[:limit])


# A risk of the "above appetite" lists (dashboards, the home panel) as a named row: what
# governance/_risk_list.html prints, without a risk, a product and an owner model per row (100 rows
# on a workspace's dashboard: decision 2012).
RISK_ROW = ("id", "title", "score", "appetite", "product_id", "product__name", "owner_id", "owner__name",
            "owner__email")


def above_appetite_rows_for_products(*, products, limit: int = 100) -> list:
    """above_appetite_for_products (the same risks, order and limit) as RISK_ROW rows."""
    return list(above_appetite(Risk.objects.filter(product__in=products, product__deleted_at__isnull=True))
                .order_by("-score", "product__name", "id").values_list(*RISK_ROW, named=True)[:limit])


def risk_summary(*, products) -> dict:
    """Counts of open items and of those above appetite across `products` (one query)."""
    qs = risks_annotated(Risk.objects.filter(product__in=products).exclude(status=Risk.Status.CLOSED))
    return qs.aggregate(open=Count("id"), above=Count("id", filter=Q(score__gt=F("appetite"))),
                        issues=Count("id", filter=Q(kind=Risk.Kind.ISSUE)))


# --- the same reads for one workspace's or one product's live products, compiled once ----------------
# Home and the dashboards read these on every view; building and compiling the appetite subquery and
# the approvers' EXISTS cost more than running them (pmhub.prepared; decision 2120). The ORM queries
# above stay the one description: the prepared ones are built from them.
SCOPES = ("workspace", "product")


def _scope_products(scope: str, scope_id):
    from roadmaps.models import Product

    if scope == "workspace":
        return Product.objects.alive().filter(workspace_id=scope_id)
    if scope == "product":
        return Product.objects.alive().filter(id=scope_id)
    raise ValueError(f"unknown scope {scope!r}")


_PREPARED: dict[tuple, Prepared] = {}


def _prepared(name: str, scope: str, build) -> Prepared:
    query = _PREPARED.get((name, scope))
    if query is None:
        query = _PREPARED[name, scope] = Prepared(Risk, build)
    return query


def above_appetite_rows_of(*, scope: str, scope_id: int, limit: int = 100) -> list:
    """above_appetite_rows_for_products of the live products of a workspace or of one product."""
    return _prepared(f"above:{limit}", scope, lambda i: above_appetite(
        Risk.objects.filter(product__in=_scope_products(scope, i), product__deleted_at__isnull=True))
        .order_by("-score", "product__name", "id").values_list(*RISK_ROW)[:limit]).named(scope_id)


def risk_summary_of(*, scope: str, scope_id: int) -> dict:
    """risk_summary of the live products of a workspace or of one product."""
    rows = _prepared("summary", scope, lambda i: risks_annotated(
        Risk.objects.filter(product__in=_scope_products(scope, i)).exclude(status=Risk.Status.CLOSED))
        .order_by().annotate(_all=Value(1)).values("_all").annotate(
            n_open=Count("id"), n_above=Count("id", filter=Q(score__gt=F("appetite"))),
            n_issues=Count("id", filter=Q(kind=Risk.Kind.ISSUE))).values_list("n_open", "n_above", "n_issues")
    ).rows(scope_id)
    found = rows[0] if rows else (0, 0, 0)
    return {"open": found[0], "above": found[1], "issues": found[2]}


def risk_history(*, risk) -> QuerySet:
    """The activity lines of one register item (who changed what, when)."""
    from django.contrib.contenttypes.models import ContentType

    from pmhub.models import Activity

    return (Activity.objects.filter(workspace_id=risk.product.workspace_id,
                                    target_type=ContentType.objects.get_for_model(Risk), target_id=risk.id)
            .select_related("actor").order_by("-created_at", "-id")[:50])


# --- business impact statements ----------------------------------------------------------------------
def statement_statuses_for_initiatives(*, initiative_ids) -> dict[int, str]:
    """{initiative id: statement status} of the initiatives that have a statement (one query): the
    roadmap's "awaiting approval" badge."""
    from .models import ImpactStatement

    ids = list(initiative_ids)
    if not ids:
        return {}
    return dict(ImpactStatement.objects.filter(initiative_id__in=ids).values_list("initiative_id", "status"))


_STATEMENTS_OF_PRODUCT = Prepared(ImpactStatement, lambda product_id, *_: ImpactStatement.objects.filter(
    initiative__product_id=product_id).values_list("initiative_id", "status"))


def statement_statuses_for_product(*, product_id: int) -> dict[int, str]:
    """statement_statuses_for_initiatives of every initiative of a product (one query, compiled once)."""
    return dict(_STATEMENTS_OF_PRODUCT.rows(product_id))


def change_requests_with_statements(*, release) -> list:
    """The release's change requests, each with `statement_status` (None when no statement): one query."""
    from django.db.models import F

    from delivery.models import ChangeRequest

    return list(ChangeRequest.objects.filter(release=release).select_related("story")
                .annotate(statement_status=F("impact_statement__status")).order_by("-created_at", "-id"))


def statement_of(*, initiative=None, change_request=None):
    """The statement of an initiative or of a change request (with its revisions, newest first,
    decisions and approvers), or None."""
    from django.db.models import Prefetch

    from .models import ImpactDecision, ImpactRevision, ImpactStatement

    subject = {"initiative": initiative} if initiative is not None else {"change_request": change_request}
    return (ImpactStatement.objects.filter(**subject)
            .select_related("requested_by")
            .prefetch_related(Prefetch("revisions", queryset=ImpactRevision.objects.select_related("author")),
                              Prefetch("decisions", queryset=ImpactDecision.objects.select_related("approver")),
                              "approvers")
            .first())


def statements_awaiting_decision(*, user, role, products, limit: int = 20) -> list:
    """Statements awaiting approval in `products` that `user` (with workspace `role`) may decide, as
    services.statement_can_decide says: the named approvers when there are any (editors or admins),
    else anyone with at least the approver role. Oldest submission first.

    Two steps: the ids (one small query), then, only when there are any, the rows with what the
    lists print (one query by id). The one query with its seven joins cost PostgreSQL 6 ms of
    planning on every home page and dashboard, for a list that is usually empty (decision 1957)."""
    from pmhub.models import Role

    if role is None or role < Role.EDITOR:
        return []
    ids = list(_awaiting_ids(products, role, user.id, limit).values_list("id", flat=True))
    return _awaiting_statements(ids)


def _awaiting_ids(products, role, user_id, limit):
    from django.db.models import Exists

    from .models import ImpactStatement

    named = ImpactStatement.approvers.through.objects.filter(impactstatement_id=OuterRef("pk"))
    mine = (~Exists(named) & Q(approver_role__lte=role)) | Exists(named.filter(user_id=user_id))
    return (ImpactStatement.objects.filter(product__in=products, status=ImpactStatement.Status.AWAITING)
            .filter(mine).order_by("submitted_at", "id").values_list("id")[:limit])


def statements_awaiting_decision_of(*, user, role, scope: str, scope_id: int, limit: int = 20) -> list:
    """statements_awaiting_decision for the live products of a workspace or of one product, its ids
    query compiled once (pmhub.prepared)."""
    from pmhub.models import Role

    if role is None or role < Role.EDITOR:
        return []
    query = _PREPARED.get((f"awaiting:{limit}", scope))
    if query is None:
        from .models import ImpactStatement

        query = _PREPARED[f"awaiting:{limit}", scope] = Prepared(ImpactStatement, lambda i, r, u: _awaiting_ids(
            _scope_products(scope, i), r, u, limit))
    return _awaiting_statements([row[0] for row in query.rows(scope_id, int(role), user.id)])


def _awaiting_statements(ids) -> list:
    from .models import ImpactStatement

    if not ids:
        return []
    return list(ImpactStatement.objects.filter(id__in=ids)
                .select_related("initiative", "change_request__story", "change_request__release", "product",
                                "requested_by")
                .order_by("submitted_at", "id"))


# --- launch readiness ------------------------------------------------------------------------------
def readiness_for_releases(*, release_ids) -> dict[int, dict]:
    """{release id: readiness} (governance.readiness) of each release with launch items: one query."""
    from .models import LaunchItem
    from .readiness import readiness

    ids = list(release_ids)
    if not ids:
        return {}
    rows = (LaunchItem.objects.filter(release_id__in=ids).values("release_id")
            .annotate(total=Count("id"), done=Count("id", filter=Q(done_at__isnull=False)),
                      required_total=Count("id", filter=Q(required=True)),
                      required_done=Count("id", filter=Q(required=True, done_at__isnull=False))))
    return {r["release_id"]: readiness(required_total=r["required_total"], required_done=r["required_done"],
                                       total=r["total"], done=r["done"]) for r in rows}


def launch_items_of(*, release):
    from .models import LaunchItem

    return LaunchItem.objects.filter(release=release).select_related("owner", "done_by").order_by(
        "category", "position", "id")


def open_required_items(*, release) -> list[str]:
    from .models import LaunchItem

    return list(LaunchItem.objects.filter(release=release, required=True, done_at__isnull=True)
                .order_by("position", "id").values_list("title", flat=True))


def next_launches(*, products, today) -> list:
    """Upcoming (not released) releases of `products` with their readiness: two queries."""
    from roadmaps.models import Release

    releases = list(Release.objects.filter(product__in=products).exclude(status=Release.Status.RELEASED)
                    .select_related("product").order_by("release_date", "id")[:20])
    ready = readiness_for_releases(release_ids=[r.id for r in releases])
    for r in releases:
        r.readiness = ready.get(r.id)
    return releases


# --- portfolio ------------------------------------------------------------------------------------------
def portfolio_settings_of(*, workspace):
    """The workspace's settings row, or unsaved defaults (a read never writes)."""
    from .models import PortfolioSettings

    return PortfolioSettings.objects.filter(workspace=workspace).first() or PortfolioSettings(workspace=workspace)


def portfolio_ranking(*, workspace) -> dict:
    """Every open initiative (not done or cancelled) of the workspace's live products, scored by
    the portfolio's model (governance.portfolio) and ranked, highest score first, unscored last;
    with demand against capacity per quarter, and per owner (no team in the model). Three queries
    whatever the number of products, initiatives and risks: settings, initiatives (entry, product,
    owner, objective count and highest open risk score annotated), capacity."""
    from django.db.models import Max

    from roadmaps.models import Initiative

    from .models import PortfolioCapacity
    from .portfolio import Weights, demand_by_owner, demand_by_quarter, quarter_of, risk_points, score, strategic_fit

    settings_ = portfolio_settings_of(workspace=workspace)
    weights = Weights(settings_.weight_value, settings_.weight_fit, settings_.weight_risk)
    top_risk = (Risk.objects.filter(initiatives=OuterRef("pk")).exclude(status=Risk.Status.CLOSED)
                .values("initiatives").annotate(m=Max("score")).values("m")[:1])
    objective_count = (Initiative.objectives.through.objects.filter(initiative_id=OuterRef("pk"))
                       .values("initiative_id").annotate(n=Count("id")).values("n")[:1])
    initiatives = list(
        Initiative.objects.filter(product__workspace=workspace, product__deleted_at__isnull=True)
        .exclude(status__in=["done", "cancelled"])
        .select_related("product", "owner", "portfolio_entry", "portfolio_entry__decided_by")
        .annotate(top_risk=Subquery(top_risk, output_field=IntegerField()),
                  objective_count=Coalesce(Subquery(objective_count, output_field=IntegerField()), Value(0)))
        .order_by("id"))
    rows = []
    for i in initiatives:
        entry = getattr(i, "portfolio_entry", None)
        fit, risk = strategic_fit(i.objective_count), risk_points(i.top_risk)
        i.fit, i.risk_points, i.entry = fit, risk, entry
        i.portfolio_score = None if entry is None else score(
            settings_.model, value=entry.value, time_criticality=entry.time_criticality,
            risk_reduction=entry.risk_reduction, cost=entry.cost, fit=fit, risk=risk, weights=weights)
        rows.append(i)
    rows.sort(key=lambda i: (i.portfolio_score is None, -(i.portfolio_score or 0), i.id))
    for rank, i in enumerate(rows, start=1):
        i.rank = rank
    capacity = dict(PortfolioCapacity.objects.filter(workspace=workspace).values_list("quarter", "capacity"))
    counted = [i for i in rows if i.entry is not None and i.entry.decision not in ("stop", "defer")]
    demand = [(quarter_of(i.start_date), i.entry.cost) for i in counted]
    by_owner = [(str(i.owner) if i.owner else None, quarter_of(i.start_date), i.entry.cost) for i in counted]
    return {"settings": settings_, "rows": rows, "quarters": demand_by_quarter(demand, capacity),
            "owners": demand_by_owner(by_owner, capacity)}


def portfolio_entry_of(*, initiative):
    from .models import PortfolioEntry

    return PortfolioEntry.objects.filter(initiative=initiative).select_related("decided_by").first()


# --- product lifecycle -------------------------------------------------------------------------------------
def retired_product_ids(*, product_ids) -> set[int]:
    """Which of these products are retired (one query): reports and ingestion skip them."""
    return set(ProductGovernance.objects.filter(product_id__in=list(product_ids), stage="retired")
               .values_list("product_id", flat=True))


def lifecycle_signals(*, product, periods: int, today) -> dict[str, dict]:
    """The evidence of a product's lifecycle: monthly means of each KPI's measurements and of the
    product's 7-day active users (adoption), over the last periods + 1 complete months, with
    whether each is declining and its trend (governance.lifecycle). Two queries."""
    from django.db.models import Avg
    from django.db.models.functions import TruncMonth

    from adoption.models import ProductDaily
    from metrics.models import Measurement

    from .lifecycle import declining, month_starts, trend

    months = month_starts(today, periods + 1)
    first, end = months[0], today.replace(day=1)
    signals: dict[str, dict] = {}
    rows = (Measurement.objects.filter(kpi__product=product, period_start__gte=first, period_start__lt=end)
            .annotate(month=TruncMonth("period_start")).values("kpi_id", "kpi__name", "kpi__direction", "month")
            .annotate(mean=Avg("value")).order_by("kpi_id", "month"))
    series: dict[int, dict] = {}
    for r in rows:
        s = series.setdefault(r["kpi_id"], {"name": r["kpi__name"], "lower": r["kpi__direction"] == "lower",
                                            "by_month": {}})
        s["by_month"][r["month"]] = float(r["mean"])
    for s in series.values():
        values = [s["by_month"][m] for m in months if m in s["by_month"]]
        full = len(values) == len(months)
        signals[f"KPI {s['name']}"] = {"values": [round(v, 2) for v in values],
                                       "declining": declining(values, periods, lower_is_better=s["lower"])
                                       if full else None,
                                       "trend": trend(values, periods, lower_is_better=s["lower"]) if full else None}
    adoption = (ProductDaily.objects.filter(product=product, day__gte=first, day__lt=end)
                .annotate(month=TruncMonth("day")).values("month").annotate(mean=Avg("active_7d")).order_by("month"))
    by_month = {r["month"]: float(r["mean"]) for r in adoption}
    if by_month:
        values = [by_month[m] for m in months if m in by_month]
        full = len(values) == len(months)
        signals["Active users (7 days)"] = {"values": [round(v, 2) for v in values],
                                            "declining": declining(values, periods) if full else None,
                                            "trend": trend(values, periods) if full else None}
    return signals
