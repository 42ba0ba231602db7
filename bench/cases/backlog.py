"""Backlog: 400 epics and 20,000 stories in the largest product; first page (API and HTML, page
sizes 50 and 200), a reorder (one UPDATE) and a re-score of the whole backlog.

Filled after the backlog merge:
- Order: Story.Meta.ordering = ("rank", "id"); `rank` is a base-36 fraction key (RankField, "C"
  collation), unique per product; generated with backlog.ranking.keys_between(None, None, n).
- Scores: the inputs live in Story.score_inputs (JSON), keyed by the framework's inputs
  (backlog.scoring.FRAMEWORK_INPUTS); every story gets both RICE and WSJF inputs so a switch of
  the product's ScoringModel.framework between rice and wsjf changes every score.
- Re-score: backlog.tasks.rescore_product(product_id, job_id) (what scoring_model_update queues
  on commit); the bench switches the framework directly and runs the task in-process.
- API: GET /api/v1/stories/?product=&page_size= (cursor pagination, ordering=rank);
  POST /api/v1/stories/{id}/move/ {"before": id}. HTML: /w/<ws>/products/<id>/backlog/ shows a
  fixed first page of 50 rows (backlog.views.PAGE_SIZE; the rest loads on scroll), so "HTML 200"
  measures the same page (the page_size parameter is ignored).
"""

import random
from datetime import timedelta

from django.utils import timezone

from bench.generate import insert_rows
from bench.harness import (
    Budget,
    Result,
    bare_select,
    call_with_available,
    find_callable,
    guarded,
    has_field,
    measure_call,
    measure_request,
    model,
)

NAME = "backlog"
ORDER = 20
REQUIRES = ("backlog.Epic", "backlog.Story")
MEASURES = ("backlog first page API 50", "backlog first page API 200", "backlog first page HTML 50",
            "backlog first page HTML 200", "story reorder (move)", "re-score whole backlog")

STORIES_API = "/api/v1/stories/?product={product}&page_size={size}"
BACKLOG_PAGE = "/w/{ws}/products/{product}/backlog/?page_size={size}"  # fixed 50 rows: page_size is ignored
MOVE_API = "/api/v1/stories/{story}/move/"
RANK_FIELDS = ("rank", "rank_key", "position", "sort_key")
RESCORE_TASKS = ("rescore_product",)
# Story.score_inputs (JSON): input name -> (low, high) of a uniform random integer (RICE and WSJF).
SCORE_INPUTS = {
    "reach": (10, 10_000), "impact": (1, 3), "confidence": (50, 100), "effort": (1, 13),
    "business_value": (1, 21), "time_criticality": (1, 21), "risk_reduction": (1, 21), "job_size": (1, 21),
}

STATUSES = ["idea", "ready", "in_progress", "in_review", "done", "wont_do"]
STATUS_WEIGHTS = [30, 25, 10, 5, 25, 5]
POINTS = [1, 2, 3, 5, 8, 13, None]
PERSONAS = ["admin", "product manager", "engineer", "viewer", "new user", "billing owner", "support agent"]
ACTIONS = ["export the report", "filter by team", "see what changed", "invite a colleague", "undo a change",
           "reorder the list", "get notified", "sign in with SSO", "import a CSV", "share a link"]


def rank_field():
    Story = model("backlog.Story")
    return next((Story._meta.get_field(n) for n in RANK_FIELDS if has_field(Story, n)), None)


def backlog_order() -> str:
    """SQL ORDER BY of the backlog: Story.Meta.ordering (rank, id)."""
    field = rank_field()
    return f'"{field.column}", "id"' if field is not None else '"id"'


def _rank_keys(n: int) -> list:
    """Valid, increasing rank keys: backlog's own keys_between when present (short keys spread by
    bisection), else zero-padded digits for a text rank, multiples of 1024 for a number."""
    field = rank_field()
    if field is None:
        return [None] * n
    try:
        from backlog.ranking import keys_between
    except ImportError:
        keys_between = None
    if keys_between is not None and field.name == "rank":
        return keys_between(None, None, n)
    if field.get_internal_type() in ("CharField", "TextField", "SlugField"):
        width = max(10, len(str(n * 1000)) + 2)
        width = min(width, getattr(field, "max_length", None) or width)
        return [str((i + 1) * 1000).zfill(width) for i in range(n)]
    return [(i + 1) * 1024 for i in range(n)]


def generate(ctx) -> None:
    Epic, Story = model("backlog.Epic"), model("backlog.Story")
    rng, scale = ctx.rng, ctx.scale
    initiative_ids = ctx.data.get("initiative_ids") or [None]
    release_ids = ctx.data.get("release_ids") or [None]
    epic_rows = []
    for i in range(scale.epics):
        epic_rows.append({"product_id": ctx.product.pk, "initiative_id": rng.choice(initiative_ids),
                          "release_id": rng.choice(release_ids) if rng.random() < 0.6 else None,
                          "title": f"Epic {i + 1}: {rng.choice(ACTIONS)}", "status": rng.choice(STATUSES[:5])})
    epics = insert_rows(ctx, Epic, epic_rows, copy=False)
    epic_ids = [e.pk for e in epics]
    ctx.data["epic_ids"] = epic_ids
    other_epics = _other_products_epics(ctx)

    member_ids = [u.pk for u in ctx.users]
    field = rank_field()
    inputs = [name for name in SCORE_INPUTS if has_field(Story, name)]
    json_inputs = has_field(Story, "score_inputs")
    created = timezone.now() - timedelta(days=365)

    def stories(product_id, count, epics_of_product):
        keys = _rank_keys(count)
        for i in range(count):
            row = {
                "product_id": product_id,
                "epic_id": rng.choice(epics_of_product) if epics_of_product and rng.random() < 0.9 else None,
                "title": f"As a {rng.choice(PERSONAS)} I want to {rng.choice(ACTIONS)} ({i + 1})",
                "status": rng.choices(STATUSES, STATUS_WEIGHTS)[0],
                "points": rng.choice(POINTS),
                "assignee_id": rng.choice(member_ids) if rng.random() < 0.7 else None,
                "created_at": created + timedelta(minutes=i),
            }
            if field is not None:
                row[field.attname] = keys[i]
            for name in inputs:
                row[name] = rng.randint(*SCORE_INPUTS[name])
            if json_inputs:
                row["score_inputs"] = {name: rng.randint(*bounds) for name, bounds in SCORE_INPUTS.items()}
            yield row

    def all_stories():
        yield from stories(ctx.product.pk, scale.stories, epic_ids)
        for product in ctx.products[1:]:
            yield from stories(product.pk, scale.stories_other, other_epics.get(product.pk, []))

    insert_rows(ctx, Story, all_stories(), copy=True)
    ctx.data["story_ids"] = _first_story_ids(ctx, 200)


def _other_products_epics(ctx) -> dict[int, list[int]]:
    """Epics of every other product (1 per 20 of the largest product's, on that product's own
    initiatives), so their stories count in the workspace's roll-ups as real work does (home's
    per-product progress reads only stories with an epic): without them, 90,000 of the huge scale's
    100,000 stories were loose items no workspace page aggregated. Drawn from a random stream of
    their own, so the largest product's rows stay those of the seed."""
    Epic, Initiative = model("backlog.Epic"), model("roadmaps.Initiative")  # noqa: N806
    rng = random.Random(f"{ctx.seed}-other-epics")
    per_product = max(1, ctx.scale.epics // 20)
    others = [p.pk for p in ctx.products[1:]]
    initiatives: dict[int, list[int]] = {}
    if Initiative is not None:
        for product_id, pk in (Initiative.objects.filter(product_id__in=others).order_by("id")
                               .values_list("product_id", "pk")):
            initiatives.setdefault(product_id, []).append(pk)
    rows = [{"product_id": product_id, "initiative_id": rng.choice(initiatives.get(product_id) or [None]),
             "title": f"Epic {i + 1}: {rng.choice(ACTIONS)}", "status": rng.choice(STATUSES[:5])}
            for product_id in others for i in range(per_product)]
    result: dict[int, list[int]] = {}
    for epic in insert_rows(ctx, Epic, rows, copy=False, label="backlog_epic (other products)"):
        result.setdefault(epic.product_id, []).append(epic.pk)
    return result


def _first_story_ids(ctx, n: int) -> list[int]:
    from django.db import connection

    Story = model("backlog.Story")
    sql, params = bare_select(Story, where='"product_id" = %s', params=[ctx.product.pk], order=backlog_order(),
                              limit=n, columns=["id"])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def measure(ctx) -> list[Result]:
    results = [_api_page(ctx, 50), _api_page(ctx, 200), _html_page(ctx, 50), _html_page(ctx, 200)]
    results.append(_reorder(ctx))
    results.append(_rescore(ctx))
    return results


def pages(ctx) -> list[tuple[str, str]]:
    return [("backlog", BACKLOG_PAGE.format(ws=ctx.workspace.slug, product=ctx.product.pk, size=50))]


PAGE_BUDGET = Budget(median=0.060, queries=8, ratio=4)


def _page_bare(ctx, size: int):
    Story = model("backlog.Story")
    return bare_select(Story, where='"product_id" = %s', params=[ctx.product.pk], order=backlog_order(), limit=size)


def _api_page(ctx, size: int) -> Result:
    name = f"backlog first page API {size}"

    @guarded(name, case=NAME)
    def run(ctx):
        return measure_request(ctx, name=name, case=NAME, client=ctx.api(), budget=PAGE_BUDGET,
                               path=STORIES_API.format(product=ctx.product.pk, size=size),
                               bare=_page_bare(ctx, size))

    return run(ctx)


def _html_page(ctx, size: int) -> Result:
    name = f"backlog first page HTML {size}"

    @guarded(name, case=NAME)
    def run(ctx):
        return measure_request(ctx, name=name, case=NAME, budget=PAGE_BUDGET,
                               path=BACKLOG_PAGE.format(ws=ctx.workspace.slug, product=ctx.product.pk, size=size),
                               bare=_page_bare(ctx, size))

    return run(ctx)


@guarded("story reorder (move)", kind="write", case=NAME)
def _reorder(ctx) -> Result:
    Story = model("backlog.Story")
    ids = ctx.data.get("story_ids") or []
    if len(ids) < 2:
        return Result.na("story reorder (move)", "not enough stories", kind="write", case=NAME)
    moves = {}

    def pick(i):
        if i not in moves:
            moves[i] = tuple(ctx.rng.sample(ids, 2))
        return moves[i]

    def body(i):
        story, before = pick(i)
        data = {"before": before}
        if has_field(Story, "version"):  # harmless if the endpoint ignores it
            data["version"] = Story.objects.filter(pk=story).values_list("version", flat=True).first()
        return data

    return measure_request(
        ctx, name="story reorder (move)", kind="write", runs_kind="write", case=NAME, method="post",
        client=ctx.api(), format="json", path=MOVE_API.format(story=ids[0]),
        path_for=lambda i: MOVE_API.format(story=pick(i)[0]), data_for=body, expect=(200, 204),
        budget=Budget(median=0.015, max_updates=1), update_table=Story._meta.db_table,
        note='POST {"before": id} on random pairs among the first 200',
    )


def _change_scoring_model(ctx, i: int) -> None:
    """Make every score stale: switch the product's ScoringModel between WSJF and RICE (what
    backlog.services.scoring_model_update writes, without queueing its own re-score)."""
    ScoringModel = model("backlog.ScoringModel")
    if ScoringModel is None:
        return
    framework = "wsjf" if i % 2 == 0 else "rice"
    ScoringModel.objects.update_or_create(product_id=ctx.product.pk, defaults={"framework": framework,
                                                                               "criteria": []})


@guarded("re-score whole backlog", kind="write", case=NAME)
def _rescore(ctx) -> Result:
    task = find_callable("backlog.tasks", RESCORE_TASKS)
    if task is None:
        return Result.na("re-score whole backlog", "feature not present (no re-score task in backlog.tasks)",
                         kind="write", case=NAME)
    from pmhub.services import job_create

    def run(i):
        job = job_create(workspace_id=ctx.workspace.pk, kind="rescore", user=ctx.user)
        call_with_available(task, product_id=ctx.product.pk, job_id=job.pk, user_id=ctx.user.pk,
                            actor_id=ctx.user.pk, workspace_id=ctx.workspace.pk)

    return measure_call(ctx, name="re-score whole backlog", func=run, before=lambda i: _change_scoring_model(ctx, i),
                        budget=Budget(median=3.0), case=NAME, count_sql=False,
                        note=f"{ctx.scale.stories:,} stories; task run in-process")
