"""Roadmaps: initiatives, releases and dependencies; timeline data and the Now/Next/Later board.

Filled after the roadmaps merge: roadmaps.Dependency (blocker, blocked), the timeline API
/api/v1/products/{id}/timeline/ (ProductViewSet.timeline), the pages roadmap/board/ and
roadmap/timeline/. The bare SQL fetches the product's initiatives and their dependencies.
"""

from datetime import timedelta

from bench.generate import insert_rows
from bench.harness import Budget, Result, bare_select, count_queries, guarded, measure_request, model
from pmhub.clock import today_in

BENCH_TZ = "UTC"  # the bench workspace's time zone (bench.generate)

NAME = "roadmaps"
ORDER = 10
REQUIRES = ("roadmaps.Product", "roadmaps.Initiative", "roadmaps.Release")
MEASURES = ("roadmap timeline data (API)", "Now/Next/Later board (HTML)")

# roadmaps.Dependency: blocker -> blocked (both FKs to Initiative; blocker is the earlier one).
DEPENDENCY_MODELS = ("roadmaps.Dependency",)
TIMELINE_API = "/api/v1/products/{product}/timeline/"
BOARD_PAGE = "/w/{ws}/products/{product}/roadmap/board/"
TIMELINE_PAGE = "/w/{ws}/products/{product}/roadmap/timeline/"

STATUSES = ["proposed", "planned", "in_progress", "done", "cancelled"]
STATUS_WEIGHTS = [25, 35, 25, 12, 3]
HORIZONS = ["now", "next", "later"]
VERBS = ["Improve", "Launch", "Rebuild", "Simplify", "Expand", "Automate", "Localise", "Secure", "Speed up"]
THINGS = ["onboarding", "billing", "search", "reporting", "mobile app", "integrations", "permissions",
          "notifications", "export", "dashboard", "API", "checkout", "SSO", "audit log", "import"]


def dependency_model():
    for label in DEPENDENCY_MODELS:
        found = model(label)
        if found is not None:
            return found
    return None


def generate(ctx) -> None:
    Initiative, Release = model("roadmaps.Initiative"), model("roadmaps.Release")
    rng, scale = ctx.rng, ctx.scale
    today = today_in(BENCH_TZ)
    rows = []
    for index, product in enumerate(ctx.products):
        count = scale.initiatives if index == 0 else scale.initiatives_other
        for i in range(count):
            start = today + timedelta(days=rng.randint(-180, 360))
            status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
            rows.append({
                "product_id": product.pk,
                "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)} #{i + 1}",
                "description": "Why: customers asked for it.\n\n- scope one\n- scope two",
                "status": status,
                "owner_id": rng.choice(ctx.users).pk,
                "start_date": start,
                "end_date": start + timedelta(days=rng.randint(14, 120)),
                "horizon": rng.choice(HORIZONS),
            })
    initiatives = insert_rows(ctx, Initiative, rows, copy=False)
    largest = [i.pk for i in initiatives if i.product_id == ctx.product.pk]
    ctx.data["initiative_ids"] = largest

    releases = insert_rows(ctx, Release, [
        {"product_id": ctx.product.pk, "name": f"{ctx.product.name} {2026 + i // 4}.{i % 4 + 1}",
         "release_date": today + timedelta(days=30 * (i - scale.releases // 3)),
         "status": "released" if i < scale.releases // 3 else "planned"}
        for i in range(scale.releases)
    ], copy=False)
    ctx.data["release_ids"] = [r.pk for r in releases]

    Dependency = dependency_model()
    if Dependency is None:
        ctx.notes.append("roadmaps: no dependency model yet; 0 dependencies generated")
        return
    pairs = set()
    while len(pairs) < min(scale.dependencies, len(largest) * (len(largest) - 1) // 2):
        a, b = sorted(rng.sample(range(len(largest)), 2))
        pairs.add((largest[a], largest[b]))
    insert_rows(ctx, Dependency, [_dependency_row(ctx, Dependency, a, b) for a, b in sorted(pairs)], copy=False)


def _dependency_row(ctx, Dependency, earlier: int, later: int) -> dict:
    """The two FKs to Initiative get (earlier, later); an FK to Product gets the largest product."""
    Initiative, Product = model("roadmaps.Initiative"), model("roadmaps.Product")
    row: dict = {}
    initiative_fks = [f for f in Dependency._meta.concrete_fields if f.is_relation and f.related_model is Initiative]
    for f, value in zip(initiative_fks, (earlier, later), strict=False):
        row[f.attname] = value
    for f in Dependency._meta.concrete_fields:
        if f.is_relation and f.related_model is Product:
            row[f.attname] = ctx.product.pk
    return row


def measure(ctx) -> list[Result]:
    return [_timeline(ctx), _board(ctx)]


def pages(ctx) -> list[tuple[str, str]]:
    fmt = {"ws": ctx.workspace.slug, "product": ctx.product.pk}
    return [("roadmap timeline", TIMELINE_PAGE.format(**fmt)), ("Now/Next/Later board", BOARD_PAGE.format(**fmt))]


def _initiatives_bare(ctx):
    Initiative = model("roadmaps.Initiative")
    return bare_select(Initiative, where='"product_id" = %s', params=[ctx.product.pk], order='"start_date", "id"')


def _timeline_bare(ctx):
    statements = [_initiatives_bare(ctx)]
    Dependency = dependency_model()
    if Dependency is not None:
        Initiative = model("roadmaps.Initiative")
        fk = next((f for f in Dependency._meta.concrete_fields
                   if f.is_relation and f.related_model is Initiative), None)
        if fk is not None:
            statements.append(bare_select(
                Dependency, where=f'"{fk.column}" IN (SELECT "id" FROM "{Initiative._meta.db_table}" '
                                  f'WHERE "product_id" = %s)', params=[ctx.product.pk], order=""))
    Release = model("roadmaps.Release")
    statements.append(bare_select(Release, where='"product_id" = %s', params=[ctx.product.pk], order='"id"'))
    return statements


@guarded("roadmap timeline data (API)", case=NAME)
def _timeline(ctx) -> Result:
    path = TIMELINE_API.format(product=ctx.product.pk)
    api = ctx.api()
    result = measure_request(
        ctx, name="roadmap timeline data (API)", path=path, client=api, case=NAME,
        budget=Budget(median=0.080, fixed_queries=True), bare=_timeline_bare(ctx),
        note=f"{len(ctx.data.get('initiative_ids', []))} initiatives, {ctx.scale.dependencies} dependencies",
    )
    if result.status == "ok":
        result.extra["queries_small_product"] = count_queries(
            ctx, TIMELINE_API.format(product=ctx.small_product.pk), client=api)
    return result


@guarded("Now/Next/Later board (HTML)", case=NAME)
def _board(ctx) -> Result:
    return measure_request(
        ctx, name="Now/Next/Later board (HTML)", case=NAME,
        path=BOARD_PAGE.format(ws=ctx.workspace.slug, product=ctx.product.pk), bare=_initiatives_bare(ctx),
        note="server budget not set by the issue (LCP < 2.5 s applies)",
    )
