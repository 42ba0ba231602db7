"""Discovery: 100,000 insights and 1,000,000 votes (2,000 ideas x 50,000 portal visitors, 20 ideas
each) in the largest product, 2,000 companies with revenue. Figures: the inbox's first page (HTML
and API), duplicate suggestions over ideas and over all insights (pg_trgm), the demand-ordered idea
list (API and HTML) and the demand recompute after a revenue change (the worker's task, in-process).

Rows come by COPY (bulk_create on SQLite). Ideas' vote_count and demand are set by one SQL UPDATE
from the votes (demand = the sum of importances: the revenue factors are recomputed by the
measured task).
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from bench.generate import insert_rows
from bench.harness import Budget, Result, bare_select, count_queries, guarded, measure_call, measure_request, model

NAME = "discovery"
ORDER = 55
REQUIRES = ("discovery.Insight", "discovery.Idea", "discovery.Vote")
MEASURES = ("inbox first page HTML", "inbox first page API", "duplicate suggestions (ideas)",
            "duplicate suggestions (100k insights)", "ideas by demand API", "ideas by demand HTML",
            "demand recompute after a revenue change")
VOTES_PER_VISITOR = 20
WORDS = ["export", "dashboard", "alerts", "sso", "slack", "csv", "report", "filter", "mobile", "api", "dark",
         "mode", "sharing", "audit", "log", "billing", "segment", "chart", "pdf", "schedule", "invite", "team"]
# Plus 2,000 made-up words (real feedback has a large vocabulary; with 22 words every insight would
# match every query and no index could help).
FILLER = [f"{a}{b}{c}" for a in ("bra", "clo", "dri", "fen", "glu", "hom", "jar", "kel", "lum", "mor")
          for b in ("ab", "ed", "il", "on", "ur", "ay", "ex", "iv", "os", "um")
          for c in ("ble", "cor", "dan", "fit", "gan", "hol", "jin", "kit", "lom", "mip", "nor", "pex",
                    "quo", "rin", "sal", "tor", "vep", "wix", "yar", "zen")]


def _phrase(rng, n) -> str:
    """n words: about one in four from the product vocabulary, the rest from the filler."""
    return " ".join(rng.choice(WORDS) if rng.random() < 0.25 else rng.choice(FILLER) for _ in range(n))


def generate(ctx) -> None:
    Company, Insight, Idea = model("discovery.Company"), model("discovery.Insight"), model("discovery.Idea")
    Portal, Visitor, Vote = model("discovery.Portal"), model("discovery.Visitor"), model("discovery.Vote")
    rng, product, scale = ctx.rng, ctx.product, ctx.scale
    companies = [{"product_id": product.pk, "name": f"Company {i}", "domain": f"c{i}.example",
                  "revenue": Decimal(rng.randrange(1_000, 5_000_000)), "currency": "EUR",
                  "external_id": f"crm-{i}"} for i in range(scale.companies)]
    insert_rows(ctx, Company, companies, copy=False)
    now = timezone.now()
    states = ["new", "new", "reviewed", "archived"]
    channels = ["api", "email", "form", "csv", "manual"]
    insert_rows(ctx, Insight, ({
        "product_id": product.pk, "title": _phrase(rng, 3), "text": f"Please {_phrase(rng, 12)} for our team",
        "channel": channels[i % 5], "key": f"bench-{i}", "state": states[i % 4],
        "author_email": f"u{i % scale.visitors}@c{i % scale.companies}.example",
        "created_at": now - timedelta(minutes=i), "updated_at": now} for i in range(scale.insights)), copy=True)
    insert_rows(ctx, Idea, ({"product_id": product.pk, "title": f"{_phrase(rng, 3)} {i}", "published": True,
                             "status": "under_consideration", "created_at": now, "updated_at": now}
                            for i in range(scale.ideas)), copy=True)
    portal = Portal.objects.create(product=product, slug="bench", name="Bench ideas", enabled=True)
    insert_rows(ctx, Visitor, ({"portal_id": portal.pk, "email": f"v{i}@c{i % scale.companies}.example",
                                "created_at": now} for i in range(scale.visitors)), copy=True)
    idea_ids = list(Idea.objects.filter(product=product).order_by("id").values_list("id", flat=True))
    visitor_ids = list(Visitor.objects.filter(portal=portal).order_by("id").values_list("id", flat=True))
    per_visitor = max(1, min(VOTES_PER_VISITOR, len(idea_ids), scale.votes // max(1, len(visitor_ids))))

    def votes():
        made = 0
        for visitor_id in visitor_ids:
            for idea_id in rng.sample(idea_ids, per_visitor):
                if made >= scale.votes:
                    return
                made += 1
                yield {"idea_id": idea_id, "visitor_id": visitor_id, "importance": 1 + made % 3, "created_at": now}

    insert_rows(ctx, Vote, votes(), copy=True)
    from django.db import connection

    with ctx.timer("discovery_idea (counts)", method="UPDATE ... FROM"), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE discovery_idea SET vote_count = v.n, demand = v.d FROM "
            "(SELECT idea_id, COUNT(*) AS n, SUM(importance) AS d FROM discovery_vote GROUP BY idea_id) v "
            "WHERE discovery_idea.id = v.idea_id")
    small = ctx.small_product
    for i in range(3):
        Insight.objects.create(product=small, text=f"Small product insight {i}", state="new", key=f"small-{i}")
        idea = Idea.objects.create(product=small, title=f"Small product idea {i}", published=True, vote_count=1,
                                   demand=1)
        Vote.objects.create(idea=idea, visitor_id=visitor_ids[i % len(visitor_ids)], importance=2)
    ctx.data["discovery_company_id"] = Company.objects.filter(product=product).order_by("id").first().pk
    ctx.notes.append(f"discovery: {scale.insights:,} insights, {scale.ideas:,} ideas, "
                     f"{Vote.objects.count():,} votes by {len(visitor_ids):,} visitors, {scale.companies:,} companies")


def measure(ctx) -> list[Result]:
    return [_inbox_html(ctx), _inbox_api(ctx), _similar(ctx, "ideas"), _similar(ctx, "insights"), _ideas_api(ctx),
            _ideas_html(ctx), _recompute(ctx)]


def pages(ctx) -> list[tuple[str, str]]:
    return [("discovery inbox", f"/w/{ctx.workspace.slug}/products/{ctx.product.pk}/discovery/inbox/")]


def _small_queries(ctx, path_template: str, client=None) -> int:
    """Queries of the same page of the small product (a few rows of each kind), after one warm-up."""
    path = path_template.format(product=ctx.small_product.pk)
    client = client or ctx.web()
    count_queries(ctx, path, client=client)
    return count_queries(ctx, path, client=client)


@guarded("inbox first page HTML", case=NAME)
def _inbox_html(ctx) -> Result:
    Insight = model("discovery.Insight")
    path = "/w/" + ctx.workspace.slug + "/products/{product}/discovery/inbox/"
    result = measure_request(
        ctx, name="inbox first page HTML", path=path.format(product=ctx.product.pk), case=NAME,
        budget=Budget(median=0.150, fixed_queries=True),
        bare=bare_select(Insight, where="product_id = %s AND state = %s", params=[ctx.product.pk, "new"],
                         order="created_at DESC, id DESC", limit=50),
        note="50 newest of 50,000 new insights; tab counts by state")
    if result.status == "ok":
        result.extra["queries_small_product"] = _small_queries(ctx, path)
    return result


@guarded("inbox first page API", case=NAME)
def _inbox_api(ctx) -> Result:
    Insight = model("discovery.Insight")
    path = "/api/v1/insights/?product={product}&state=new"
    result = measure_request(
        ctx, name="inbox first page API", path=path.format(product=ctx.product.pk), client=ctx.api(), case=NAME,
        budget=Budget(median=0.120, fixed_queries=True),
        bare=bare_select(Insight, where="product_id = %s AND state = %s", params=[ctx.product.pk, "new"],
                         order="created_at DESC, id DESC", limit=50),
        note="cursor page of 50")
    if result.status == "ok":
        result.extra["queries_small_product"] = _small_queries(ctx, path, client=ctx.api())
    return result


def _similar(ctx, kind: str) -> Result:
    name = "duplicate suggestions (ideas)" if kind == "ideas" else "duplicate suggestions (100k insights)"

    @guarded(name, case=NAME)
    def run(ctx) -> Result:
        param = "title" if kind == "ideas" else "text"
        query = "export dashboard csv"
        path = (f"/w/{ctx.workspace.slug}/products/{ctx.product.pk}/discovery/similar/"
                f"?kind={'idea' if kind == 'ideas' else 'insight'}&{param}={query.replace(' ', '+')}")
        bare = None
        if ctx.vendor == "postgresql":
            table, column = ("discovery_idea", "title") if kind == "ideas" else ("discovery_insight", "text")
            bare = (f"SELECT id, {column}, word_similarity(%s, {column}) AS s FROM {table} "
                    f"WHERE product_id = %s AND %s <%% {column} ORDER BY s DESC, id DESC LIMIT 5",
                    [query, ctx.product.pk, query])
        return measure_request(ctx, name=name, path=path, case=NAME, budget=Budget(median=0.300, queries=12),
                               bare=bare, note="pg_trgm word similarity, GIN trigram index; 5 best")

    return run(ctx)


@guarded("ideas by demand API", case=NAME)
def _ideas_api(ctx) -> Result:
    Idea = model("discovery.Idea")
    path = "/api/v1/ideas/?product={product}&ordering=-demand"
    result = measure_request(
        ctx, name="ideas by demand API", path=path.format(product=ctx.product.pk), client=ctx.api(), case=NAME,
        budget=Budget(median=0.120, fixed_queries=True),
        bare=bare_select(Idea, where="product_id = %s", params=[ctx.product.pk], order="demand DESC, id DESC",
                         limit=50),
        note="demand stored on the idea (kept by services); cursor page of 50 with epics and stories")
    if result.status == "ok":
        result.extra["queries_small_product"] = _small_queries(ctx, path, client=ctx.api())
    return result


@guarded("ideas by demand HTML", case=NAME)
def _ideas_html(ctx) -> Result:
    Idea = model("discovery.Idea")
    path = "/w/" + ctx.workspace.slug + "/products/{product}/discovery/ideas/"
    result = measure_request(
        ctx, name="ideas by demand HTML", path=path.format(product=ctx.product.pk), case=NAME,
        budget=Budget(median=0.200, fixed_queries=True),
        bare=bare_select(Idea, where="product_id = %s AND merged_into_id IS NULL", params=[ctx.product.pk],
                         order="demand DESC, vote_count DESC, id DESC", limit=50))
    if result.status == "ok":
        result.extra["queries_small_product"] = _small_queries(ctx, path)
    return result


@guarded("demand recompute after a revenue change", kind="write", case=NAME)
def _recompute(ctx) -> Result:
    from discovery.tasks import demand_recompute

    Company = model("discovery.Company")
    company_id = ctx.data["discovery_company_id"]

    def before(i):
        Company.objects.filter(pk=company_id).update(revenue=Decimal(10_000 * (i + 2)))

    return measure_call(ctx, name="demand recompute after a revenue change", func=lambda i: demand_recompute.run(
        ctx.product.pk), before=before, case=NAME, budget=Budget(median=120.0),
        note=f"the worker's task: story demand, then every voted idea ({ctx.scale.votes:,} votes) in chunks of 500")
