"""Reads of the discovery app, scoped to the user's workspaces."""

from decimal import Decimal

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.prepared import Prepared

from .demand import highlight_weight
from .models import Company, Highlight, Idea, Insight, Person, Vote

INBOX_PAGE = 50


def companies_for_user(*, user):
    return Company.objects.filter(product__workspace_id__in=workspace_ids_for(user),
                                  product__deleted_at__isnull=True)


def people_for_user(*, user):
    return Person.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def insights_for_user(*, user):
    return Insight.objects.filter(product__workspace_id__in=workspace_ids_for(user),
                                  product__deleted_at__isnull=True)


def highlights_for_user(*, user):
    return Highlight.objects.filter(insight__product__workspace_id__in=workspace_ids_for(user),
                                    insight__product__deleted_at__isnull=True)


def company_for_user(*, user, company_id, product=None) -> Company:
    qs = companies_for_user(user=user).select_related("segment", "product__workspace")
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=company_id)


def insight_for_user(*, user, insight_id, product=None) -> Insight:
    qs = insights_for_user(user=user).select_related("person", "company__segment", "owner", "product__workspace")
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=insight_id)


def company_list(*, product, q: str = "", segment_id=None):
    """The product's companies with their people and insights counted (two subqueries, one query)."""
    qs = (Company.objects.filter(product=product).select_related("segment")
          .annotate(people_count=Count("people", distinct=True), insight_count=Count("insights", distinct=True)))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(domain__icontains=q) | Q(external_id__iexact=q))
    if segment_id:
        qs = qs.filter(segment_id=segment_id)
    return qs.order_by("name", "id")


def inbox(*, product, state: str = Insight.State.NEW, owner_id=None, company_id=None):
    """One product's insights in one state, newest first (the index discovery_inbox serves it)."""
    qs = Insight.objects.filter(product=product)
    if state in Insight.State.values:
        qs = qs.filter(state=state)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if company_id:
        qs = qs.filter(company_id=company_id)
    # The highlight count as a correlated subquery, evaluated for the page's rows only: a JOIN with
    # GROUP BY grouped all 50,000 new insights before the LIMIT (1.1 s at bench scale).
    highlights = (Highlight.objects.filter(insight=OuterRef("pk")).order_by().values("insight")
                  .annotate(n=Count("id")).values("n"))
    return (qs.select_related("company", "person", "owner")
            .annotate(highlight_count=Coalesce(Subquery(highlights), 0))
            .order_by("-created_at", "-id"))


def inbox_counts(*, product) -> dict[str, int]:
    rows = Insight.objects.filter(product=product).values("state").annotate(n=Count("id"))
    counts = dict.fromkeys(Insight.State.values, 0)
    counts.update({r["state"]: r["n"] for r in rows})
    return counts


def company_figures(*, company) -> dict:
    return {
        "people": company.people.count(),
        "insights": company.insights.count(),
        "highlights": Highlight.objects.filter(insight__company=company).count(),
    }


def story_demand(*, product, story_ids, weights: dict) -> dict[int, Decimal]:
    """Customer demand that highlighted insights add to stories: the sum over highlights of
    importance x the company's segment weight x its revenue factor (discovery/demand.py).
    One query; registered as a backlog demand provider in DiscoveryConfig.ready()."""
    qs = Highlight.objects.filter(insight__product=product, story__isnull=False)
    if story_ids is not None:
        qs = qs.filter(story_id__in=story_ids)
    rows = qs.values_list("story_id", "importance", "insight__company__revenue", "insight__company__segment__name")
    total: dict[int, Decimal] = {}
    for story_id, importance, revenue, segment in rows:
        w = float(weights.get(segment, 1)) if segment else 1.0
        total[story_id] = total.get(story_id, Decimal(0)) + highlight_weight(importance=importance,
                                                                            segment_weight=w, revenue=revenue)
    return total


_ASKER_FIELDS = ("importance", "insight__company__revenue", "insight__company__segment__name")


def _asker_companies(highlights):
    return (Company.objects.filter(insights__highlights__in=highlights).distinct()
            .select_related("segment").order_by(F("revenue").desc(nulls_last=True), "name"))


_ASKER_ROWS = Prepared(Highlight, lambda story_id, *_: Highlight.objects.filter(story_id=story_id)
                       .values_list(*_ASKER_FIELDS))
_ASKER_COMPANIES = Prepared(Company, lambda story_id, *_: _asker_companies(Highlight.objects.filter(story_id=story_id)))
_STORY_ASKERS = Prepared(Highlight, lambda story_id, *_: Highlight.objects.filter(story_id=story_id)
                         .values_list("insight__company_id", "insight__company__segment__name"))


def askers_of(*, story=None, epic=None, weights: dict | None = None) -> dict:
    """Who asked for a story or an epic through highlighted insights: companies, their total
    revenue per currency, their segments and the customer demand the highlights add (importance x
    segment weight x revenue factor, as in `story_demand`). An epic's askers are those of the epic
    and of its stories (decision 1611). Two queries, whatever the number of askers."""
    if story is not None:  # the story page's: its two queries compiled once (decision 2132)
        rows, companies = _ASKER_ROWS.rows(story.pk), _ASKER_COMPANIES.objects(story.pk)
    else:
        qs = Highlight.objects.filter(Q(epic=epic) | Q(story__epic=epic))
        rows = list(qs.values_list(*_ASKER_FIELDS))
        companies = list(_asker_companies(qs))
    weights = weights or {}
    demand = Decimal(0)
    for importance, revenue, segment in rows:
        w = float(weights.get(segment, 1)) if segment else 1.0
        demand += highlight_weight(importance=importance, segment_weight=w, revenue=revenue)
    revenue: dict[str, Decimal] = {}
    for c in companies:
        if c.revenue is not None:
            revenue[c.currency] = revenue.get(c.currency, Decimal(0)) + c.revenue
    return {"companies": companies, "revenue": sorted(revenue.items()),
            "segments": sorted({c.segment.name for c in companies if c.segment_id}),
            "highlights": len(rows), "demand": demand}


def story_askers(story) -> dict:
    """Who asked for a story, as counts (the backlog's askers provider: backlog/demand.py): the
    companies, segments and highlighted insights of `askers_of`, so the story page's demand line,
    the story API and the "Who asked" panel give the same numbers. One query: the counts need
    neither the companies' rows nor the segment weights (issue 23)."""
    return _askers_counts(_STORY_ASKERS.rows(story.pk))


def story_askers_rows(story_ref):
    """`story_askers`' rows for the story `story_ref` (an OuterRef), one JSON pair each: the story
    API reads them in the story's own query (backlog.demand.askers_annotations)."""
    from django.db.models import F
    from django.db.models.functions import JSONObject

    return (Highlight.objects.filter(story_id=story_ref).order_by()
            .values(pair=JSONObject(c=F("insight__company_id"), s=F("insight__company__segment__name"))))


def story_askers_from_rows(values) -> dict:
    """`story_askers` from the values of `story_askers_rows`."""
    return _askers_counts([(v["c"], v["s"]) for v in values or ()])


def _askers_counts(rows) -> dict:
    companies = {company for company, _ in rows if company is not None}
    segments = sorted({segment for company, segment in rows if company is not None and segment is not None})
    return {"customers": len(companies), "segments": segments, "feedback_count": len(rows)}


def epics_demand(*, product, epic_ids) -> dict[int, Decimal]:
    """Each epic's customer demand, the figure of its "Who asked" panel (`askers_of(epic=...)`):
    the sum of `highlight_weight` over the insights highlighted for the epic or for one of its
    stories, each highlight once per epic, with the backlog's segment weights. One query for any
    number of epics (the epics list's Demand column)."""
    from backlog.selectors import settings_of

    ids = set(epic_ids)
    if not ids:
        return {}
    weights = settings_of(product).segment_weights or {}
    rows = (Highlight.objects.filter(Q(epic_id__in=ids) | Q(story__epic_id__in=ids))
            .values_list("epic_id", "story__epic_id", "importance", "insight__company__revenue",
                         "insight__company__segment__name"))
    total: dict[int, Decimal] = {}
    for epic_id, story_epic_id, importance, revenue, segment in rows:
        w = float(weights.get(segment, 1)) if segment else 1.0
        value = highlight_weight(importance=importance, segment_weight=w, revenue=revenue)
        for target in {epic_id, story_epic_id} & ids:
            total[target] = total.get(target, Decimal(0)) + value
    return total


def insights_revenue(*, product) -> Decimal:
    return Company.objects.filter(product=product).aggregate(total=Sum("revenue"))["total"] or Decimal(0)


def ideas_by_demand(*, product, show: str = "all", segment_id=None):
    """The product's unmerged ideas, highest customer demand first (index discovery_idea_demand);
    with `segment_id`, only ideas voted for by someone of a company in that segment (by the
    domain of the voter's e-mail): "most requested by revenue" in one segment."""
    qs = Idea.objects.filter(product=product, merged_into__isnull=True)
    if segment_id:
        from django.db.models import Value
        from django.db.models.functions import Lower, StrIndex, Substr

        domains = Company.objects.filter(product=product, segment_id=segment_id).exclude(domain="").values("domain")
        votes = (Vote.objects.filter(idea__product=product)
                 .annotate(domain=Lower(Substr("visitor__email", StrIndex("visitor__email", Value("@")) + 1)))
                 .filter(domain__in=domains))
        qs = qs.filter(pk__in=votes.values("idea_id"))
    if show == "published":
        qs = qs.filter(published=True)
    elif show == "review":
        qs = qs.filter(published=False)
    return qs.order_by("-demand", "-vote_count", "-id")


def idea_askers(*, idea) -> dict:
    """Who asked for an idea: the voters' companies (by e-mail domain) and the companies of insights
    highlighted for it, their total revenue per currency and their segments, and how many voters
    belong to no known company. Two queries."""
    from .intake import email_domain

    emails = list(Vote.objects.filter(idea=idea).values_list("visitor__email", flat=True))
    domains = {email_domain(e) for e in emails} - {""}
    companies = list(Company.objects.filter(Q(domain__in=domains) | Q(insights__highlights__idea=idea),
                                            product_id=idea.product_id).distinct()
                     .select_related("segment").order_by(F("revenue").desc(nulls_last=True), "name"))
    known = {c.domain for c in companies}
    revenue: dict[str, Decimal] = {}
    for c in companies:
        if c.revenue is not None:
            revenue[c.currency] = revenue.get(c.currency, Decimal(0)) + c.revenue
    return {"companies": companies, "revenue": sorted(revenue.items()),
            "segments": sorted({c.segment.name for c in companies if c.segment_id}),
            "voters": len(emails), "unknown": sum(1 for e in emails if email_domain(e) not in known)}


# Usage events name the company they come from with this property: the company's external id.
COMPANY_PROPERTY = "company"
# ...and the person: `properties.person` (a person's external id) when given, else the event's actor
# (the product's own user id, the natural external id of a person). Decision 1614.
PERSON_PROPERTY = "person"


def _event_person():
    from django.db.models import CharField
    from django.db.models.fields.json import KeyTextTransform
    from django.db.models.functions import Cast, NullIf

    named = NullIf(Cast(KeyTextTransform(PERSON_PROPERTY, "properties"), CharField()), Value(""))
    return Coalesce(named, F("actor"), output_field=CharField())


def _share(part: int, whole: int):
    return round(100 * part / whole, 1) if whole else None


def _people_adoption(*, events, keys, askers: set[str]) -> dict:
    """Adoption among the people who asked beside adoption among everyone, over `events` (already
    limited to the product and the period): a person is seen with any event, adopted with an event
    of `keys`. Two queries: the counts over everyone in SQL, the askers' own rows."""
    from django.db.models import Count

    events = events.annotate(person=_event_person())
    everyone = events.aggregate(seen=Count("person", distinct=True),
                                adopted=Count("person", distinct=True, filter=Q(feature_key__in=keys)))
    rows = set(events.filter(person__in=askers).values_list("person", "feature_key").distinct()) if askers else set()
    seen = {p for p, _k in rows}
    adopted = {p for p, k in rows if k in keys}
    return {"people": len(askers), "people_seen": len(seen), "people_adopted": len(adopted),
            "people_percent": _share(len(adopted), len(seen)),
            "everyone_people": everyone["seen"], "everyone_people_adopted": everyone["adopted"],
            "everyone_people_percent": _share(everyone["adopted"], everyone["seen"])}


def askers_adoption(*, idea) -> dict | None:
    """Did the companies that asked for a shipped idea adopt it? (docs/decisions/1610)

    The idea's features are the adoption features whose KPI is a success KPI of the idea's epics.
    Since the idea shipped: `askers_percent` = asking companies with an event of those features /
    asking companies seen at all; `everyone_percent` = the same over every company seen (events
    carry the company's external id in `properties.company`). Asking companies: those of the
    voters (by e-mail domain) and of insights highlighted for the idea's work, with an external id.
    None when the idea has not shipped or has no feature to measure.

    The same per person (decision 1614): the people who asked (voters, by e-mail address, and the
    authors of those insights, who are people of the product with an external id) against every
    person seen since the idea shipped (`people_*`, `everyone_people_*`). Eight queries."""
    if idea.shipped_at is None:
        return None
    from django.db.models.fields.json import KeyTextTransform

    from adoption.models import Feature, UsageEvent

    keys = list(Feature.objects.filter(product_id=idea.product_id, kpi__epics__ideas=idea)
                .values_list("key", flat=True).distinct())
    if not keys:
        return None
    from .intake import email_domain

    emails = set(Vote.objects.filter(idea=idea).values_list("visitor__email", flat=True))
    domains = {email_domain(e) for e in emails}
    work = (Q(insights__highlights__epic__ideas=idea) | Q(insights__highlights__story__ideas=idea)
            | Q(insights__highlights__idea=idea))
    askers = set(Company.objects.filter(Q(product_id=idea.product_id) & (Q(domain__in=domains - {""}) | work))
                 .exclude(external_id="").values_list("external_id", flat=True))
    people = set(Person.objects.filter(Q(product_id=idea.product_id) & (Q(email__in=emails) | work))
                 .exclude(external_id="").values_list("external_id", flat=True))
    events = (UsageEvent.objects.filter(product_id=idea.product_id, occurred_at__gte=idea.shipped_at)
              .annotate(company=KeyTextTransform(COMPANY_PROPERTY, "properties")).exclude(company=None))
    seen = set(events.values_list("company", flat=True).distinct())
    adopted = set(events.filter(feature_key__in=keys).values_list("company", flat=True).distinct())
    askers_seen = askers & seen

    def share(part, whole):
        return round(100 * len(part) / len(whole), 1) if whole else None

    period = UsageEvent.objects.filter(product_id=idea.product_id, occurred_at__gte=idea.shipped_at)
    return {"features": keys, "askers": len(askers), "askers_seen": len(askers_seen),
            "askers_adopted": len(askers_seen & adopted), "askers_percent": share(askers_seen & adopted, askers_seen),
            "everyone": len(seen), "everyone_adopted": len(adopted), "everyone_percent": share(adopted, seen),
            **_people_adoption(events=period, keys=keys, askers=people)}


def outcome_askers_adoption(*, product) -> list[dict]:
    """Adoption's outcome review, beside each shipped epic: adoption among the companies that asked
    for it vs among every company (decision 1610). For each epic review: the features whose KPI is
    the review's KPI; since the release, `askers_percent` = asking companies with an event of those
    features / asking companies seen at all, `everyone_percent` the same over every company seen.
    Askers of an epic: companies of insights highlighted for the epic or its stories, and the
    voters' companies (by e-mail domain) of ideas linked to it; only those with an external id.
    Per person too (decision 1614): the people of those insights and the voters (people of the
    product by e-mail address) with an external id, against every person seen since the release
    (`people_*`, `everyone_people_*`; an event's person is `properties.person`, else its actor).
    Ten queries, whatever the number of reviews, askers or events."""
    from django.db.models import Max
    from django.db.models.fields.json import KeyTextTransform

    from adoption.models import Feature, OutcomeReview, UsageEvent

    from .intake import email_domain

    reviews = list(OutcomeReview.objects.filter(product=product, epic__isnull=False)
                   .select_related("epic", "kpi").order_by("-released_at", "-id"))
    if not reviews:
        return []
    epic_ids = {r.epic_id for r in reviews}
    features: dict[int, set[str]] = {}
    for kpi_id, key in Feature.objects.filter(product=product, kpi_id__in={r.kpi_id for r in reviews}) \
            .values_list("kpi_id", "key"):
        features.setdefault(kpi_id, set()).add(key)
    if not features:
        return []
    askers: dict[int, set[str]] = {e: set() for e in epic_ids}
    companies = Company.objects.filter(product=product).exclude(external_id="")
    for ext, epic_id, story_epic_id in companies.filter(
            Q(insights__highlights__epic_id__in=epic_ids) | Q(insights__highlights__story__epic_id__in=epic_ids)) \
            .values_list("external_id", "insights__highlights__epic_id", "insights__highlights__story__epic_id"):
        for e in (epic_id, story_epic_id):
            if e in askers:
                askers[e].add(ext)
    voters = list(Vote.objects.filter(idea__product=product, idea__epics__in=epic_ids)
                  .values_list("visitor__email", "idea__epics"))
    by_domain: dict[str, str] = dict(companies.filter(domain__in={email_domain(e) for e, _ in voters} - {""})
                                     .values_list("domain", "external_id"))
    for email, epic_id in voters:
        ext = by_domain.get(email_domain(email))
        if ext and epic_id in askers:
            askers[epic_id].add(ext)
    people: dict[int, set[str]] = {e: set() for e in epic_ids}
    by_email: dict[str, str] = {}
    for ext, email, epic_id, story_epic_id in Person.objects.filter(product=product).exclude(external_id="").filter(
            Q(email__in={e for e, _ in voters}) | Q(insights__highlights__epic_id__in=epic_ids)
            | Q(insights__highlights__story__epic_id__in=epic_ids)).values_list(
            "external_id", "email", "insights__highlights__epic_id", "insights__highlights__story__epic_id"):
        by_email[email] = ext
        for e in (epic_id, story_epic_id):
            if e in people:
                people[e].add(ext)
    for email, epic_id in voters:
        if email in by_email and epic_id in people:
            people[epic_id].add(by_email[email])
    since = min(r.released_at for r in reviews)
    events = (UsageEvent.objects.filter(product=product, occurred_at__gte=since)
              .annotate(company=KeyTextTransform(COMPANY_PROPERTY, "properties")).exclude(company=None))
    last_seen = dict(events.values("company").annotate(last=Max("occurred_at")).values_list("company", "last"))
    all_keys = set().union(*features.values()) if features else set()
    used = (events.filter(feature_key__in=all_keys).values("company", "feature_key")
            .annotate(last=Max("occurred_at")).values_list("company", "feature_key", "last"))
    last_used: dict[tuple[str, str], object] = {(c, k): last for c, k, last in used}

    def share(part, whole):
        return round(100 * len(part) / len(whole), 1) if whole else None

    from django.db.models import Count

    by_person = UsageEvent.objects.filter(product=product, occurred_at__gte=since).annotate(person=_event_person())
    # Every person seen (and adopted) since each release: one query, two counts per review, in SQL.
    counts = by_person.aggregate(**{
        f"{what}_{r.id}": Count("person", distinct=True, filter=Q(occurred_at__gte=r.released_at, **extra))
        for r in reviews if features.get(r.kpi_id) for what, extra in (("seen", {}),
                                            ("adopted", {"feature_key__in": features.get(r.kpi_id, set())}))})
    all_people = set().union(*people.values())
    person_last = {}
    if all_people:
        for person, key, last in (by_person.filter(person__in=all_people).values("person", "feature_key")
                                  .annotate(last=Max("occurred_at")).values_list("person", "feature_key", "last")):
            person_last[(person, key)] = last

    rows = []
    for r in reviews:
        keys = features.get(r.kpi_id, set())
        if not keys:
            continue
        seen = {c for c, last in last_seen.items() if last >= r.released_at}
        adopted = {c for (c, k), last in last_used.items() if k in keys and last >= r.released_at}
        asked_seen = askers[r.epic_id] & seen
        rows.append({"review": r, "features": sorted(keys), "askers": len(askers[r.epic_id]),
                     "askers_seen": len(asked_seen), "askers_adopted": len(asked_seen & adopted),
                     "askers_percent": share(asked_seen & adopted, asked_seen),
                     "everyone": len(seen), "everyone_adopted": len(adopted & seen),
                     "everyone_percent": share(adopted & seen, seen),
                     **_people_row(r, keys, people[r.epic_id], person_last, counts)})
    return rows


def _people_row(review, keys, askers: set[str], person_last: dict, counts: dict) -> dict:
    seen = {p for (p, _k), last in person_last.items() if p in askers and last >= review.released_at}
    adopted = {p for (p, k), last in person_last.items() if p in askers and k in keys and last >= review.released_at}
    everyone, everyone_adopted = counts[f"seen_{review.id}"], counts[f"adopted_{review.id}"]
    return {"people": len(askers), "people_seen": len(seen), "people_adopted": len(adopted),
            "people_percent": _share(len(adopted), len(seen)), "everyone_people": everyone,
            "everyone_people_adopted": everyone_adopted, "everyone_people_percent": _share(everyone_adopted, everyone)}


def feedback_rows(*, product, limit: int = 100):
    """Backlog › Feedback: the product's latest insights highlighted for its work (stories or
    epics), whatever their channel, with their company and highlights. Three queries."""
    from django.db.models import Prefetch

    return (Insight.objects.filter(product=product, pk__in=Highlight.objects.filter(insight__product=product)
                                   .values("insight_id"))
            .select_related("company", "company__segment", "person")
            .prefetch_related(Prefetch("highlights", queryset=Highlight.objects.select_related("story", "epic")))
            .order_by("-created_at", "-id")[:limit])
