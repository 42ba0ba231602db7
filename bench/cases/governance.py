"""Governance: the workspace portfolio page over 20 products, their initiatives (300 in the
largest) with portfolio inputs, and 1,000 risks linked to them (full scale); the risk register
of the largest product.

The portfolio ranks every open initiative of the workspace with one query for the initiatives
(entry, product, objective count and highest open risk score annotated), so its query count is
the same for the bench workspace and for a second workspace with one product and two
initiatives (`fixed q`). The bare SQL is that one query written by hand: the database's floor.
"""

from bench.generate import insert_rows
from bench.harness import Budget, Result, count_queries, guarded, measure_request, model

NAME = "governance"
ORDER = 70
REQUIRES = ("roadmaps.Initiative", "governance.Risk", "governance.PortfolioEntry")
MEASURES = ("portfolio page (HTML, all products)", "portfolio ranking (API)", "risk register with heat map (HTML)")
RISKS = {"full": 1_000, "huge": 1_000, "small": 50, "tiny": 12}
PORTFOLIO_PAGE = "/w/{ws}/portfolio/"
RANKING_API = "/api/v1/portfolio-ranking/?workspace={id}"
REGISTER_PAGE = "/w/{ws}/products/{product}/risks/"


def generate(ctx) -> None:
    from pmhub.models import Membership, Role, Workspace
    from roadmaps.models import Initiative, Product

    rng = ctx.rng
    initiative_rows = list(Initiative.objects.filter(product__workspace=ctx.workspace)
                           .values_list("id", "product_id").order_by("id"))
    insert_rows(ctx, model("governance.PortfolioEntry"), [
        {"initiative_id": i, "value": rng.randint(1, 10), "time_criticality": rng.randint(1, 10),
         "risk_reduction": rng.randint(1, 10), "cost": rng.randint(1, 40),
         "decision": rng.choice(["", "", "fund", "defer", "stop"])} for i, _product in initiative_rows])
    Risk = model("governance.Risk")
    count = RISKS.get(ctx.scale.name, 12)
    risks = []
    for n in range(count):
        _initiative, product = initiative_rows[n % len(initiative_rows)]
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        risks.append({"product_id": product, "title": f"Risk {n + 1}", "kind": "risk", "likelihood": likelihood,
                      "impact": impact, "score": likelihood * impact,
                      "status": rng.choice(["open", "open", "mitigating", "closed"])})
    insert_rows(ctx, Risk, risks)
    ids = list(Risk.objects.filter(product__workspace=ctx.workspace).values_list("id", flat=True).order_by("id"))
    insert_rows(ctx, Risk.initiatives.through, [
        {"risk_id": rid, "initiative_id": initiative_rows[n % len(initiative_rows)][0]} for n, rid in enumerate(ids)])
    # A second, small workspace of the bench user: the same page must cost the same queries there.
    small = Workspace.objects.create(name="Bench small", slug="bench-small-governance")
    Membership.objects.create(workspace=small, user=ctx.user, role=Role.ADMIN)
    product = Product.objects.create(workspace=small, name="Small")
    for k in range(2):
        initiative = Initiative.objects.create(product=product, title=f"Small {k}")
        model("governance.PortfolioEntry").objects.create(initiative=initiative, value=5, cost=2)
    ctx.data["governance_small_workspace"] = small.slug
    ctx.notes.append(f"governance: {len(initiative_rows)} initiatives with portfolio inputs over "
                     f"{Product.objects.filter(workspace=ctx.workspace).count()} products, {count} risks")


def measure(ctx) -> list[Result]:
    return [_portfolio_page(ctx), _ranking_api(ctx), _register(ctx)]


def pages(ctx) -> list[tuple[str, str]]:
    return [("portfolio page", PORTFOLIO_PAGE.format(ws=ctx.workspace.slug))]


def _portfolio_bare(ctx):
    """The ranking's one big query, by hand: open initiatives of the workspace's live products with
    their inputs, objective count and highest open linked risk score."""
    sql = (
        'SELECT i."id", i."title", i."start_date", p."name", e."value", e."time_criticality", e."risk_reduction", '
        'e."cost", e."decision", '
        '(SELECT COUNT(*) FROM "roadmaps_initiative_objectives" o WHERE o."initiative_id" = i."id"), '
        '(SELECT MAX(r."score") FROM "governance_risk" r JOIN "governance_risk_initiatives" ri ON ri."risk_id" = r."id" '
        "WHERE ri.\"initiative_id\" = i.\"id\" AND r.\"status\" <> 'closed') "
        'FROM "roadmaps_initiative" i JOIN "roadmaps_product" p ON p."id" = i."product_id" '
        'LEFT JOIN "governance_portfolioentry" e ON e."initiative_id" = i."id" '
        "WHERE p.\"workspace_id\" = %s AND p.\"deleted_at\" IS NULL AND i.\"status\" NOT IN ('done', 'cancelled') "
        'ORDER BY i."id"')
    return sql, [ctx.workspace.pk]


@guarded("portfolio page (HTML, all products)", case=NAME)
def _portfolio_page(ctx) -> Result:
    result = measure_request(
        ctx, name="portfolio page (HTML, all products)", case=NAME,
        path=PORTFOLIO_PAGE.format(ws=ctx.workspace.slug), bare=_portfolio_bare(ctx),
        budget=Budget(queries=9, fixed_queries=True),
        note="every open initiative of every product ranked by WSJF; demand and capacity per quarter")
    if result.status == "ok":
        client, small = ctx.web(), PORTFOLIO_PAGE.format(ws=ctx.data["governance_small_workspace"])
        count_queries(ctx, small, client=client)  # warm: switching workspace writes the session once
        result.extra["queries_small_product"] = count_queries(ctx, small, client=client)
        result.extra["queries_small_workspace_note"] = "second workspace: 1 product, 2 initiatives"
    return result


@guarded("portfolio ranking (API)", case=NAME)
def _ranking_api(ctx) -> Result:
    return measure_request(
        ctx, name="portfolio ranking (API)", case=NAME, client=ctx.api(),
        path=RANKING_API.format(id=ctx.workspace.pk), bare=_portfolio_bare(ctx), budget=Budget(queries=8))


@guarded("risk register with heat map (HTML)", case=NAME)
def _register(ctx) -> Result:
    Risk = model("governance.Risk")
    from bench.harness import bare_select

    return measure_request(
        ctx, name="risk register with heat map (HTML)", case=NAME,
        path=REGISTER_PAGE.format(ws=ctx.workspace.slug, product=ctx.product.pk),
        bare=bare_select(Risk, where="\"product_id\" = %s AND \"status\" <> 'closed'", params=[ctx.product.pk],
                         order='"score" DESC, "id"', limit=500),
        budget=Budget(queries=12))
