"""Writes of the backlog app. Every write checks the actor's role, runs in a transaction,
records activity and emits webhooks; status changes send `story_status_changed`."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, OuterRef, Q, Subquery
from django.utils import timezone

from pmhub import sqlbatch
from pmhub.access import require_role, workspace_ids_for
from pmhub.integrity import duplicate_as
from pmhub.models import Role, User
from pmhub.prepared import Prepared
from pmhub.services import activity_build, activity_record, job_create, job_finish, job_progress, notify
from pmhub.subscribers import subscribers_read_together
from pmhub.utils import ids_text, version_claim, versioned_update
from pmhub.webhooks import webhook_emit, webhook_emit_many
from roadmaps.models import Product

from . import customfields, ranking, scoring, selectors
from .models import (
    CATEGORIES,
    CATEGORY_DONE,
    CATEGORY_EXCLUDED,
    AcceptanceCriterion,
    BacklogSettings,
    Comment,
    CustomField,
    Epic,
    SavedView,
    ScoringModel,
    Story,
)
from .signals import stories_created, story_status_changed

STORY_FIELDS = [
    "title",
    "as_a",
    "i_want",
    "so_that",
    "description",
    "status",
    "points",
    "epic_id",
    "assignee_id",
    "labels",
    "score_inputs",
    "moscow",
    "kano",
    "custom_values",
]
# The columns PostgreSQL normalises on write (jsonb key order, numeric scale): a create reads them back.
STORED_NORMALISED = ["labels", "score_inputs", "custom_values", "score", "demand"]
RESCORE_BATCH = 1000
MENTION_RE = re.compile(r"(?<![\w.])@([\w.+-]+@[\w-]+(?:\.[\w-]+)+|[\w.+-]+)")


def _editor(actor, product) -> None:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.EDITOR)


def story_payload(story: Story) -> dict:
    return {
        "id": story.id,
        "product_id": story.product_id,
        "title": story.title,
        "status": story.status,
        "rank": story.rank,
        "score": None if story.score is None else str(story.score),
        "points": story.points,
        "epic_id": story.epic_id,
        "assignee_id": story.assignee_id,
        "labels": story.labels,
        "version": story.version,
    }


# --- workflow ------------------------------------------------------------------------------
def workflow_of(product) -> list[dict]:
    return selectors.settings_of(product).workflow


def is_done(workflow: list[dict], status: str) -> bool:
    return any(s["key"] == status and s["category"] == CATEGORY_DONE for s in workflow)


@transaction.atomic
def settings_update(*, actor, product, workflow=None, segment_weights=None) -> BacklogSettings:
    """Edit the workflow (statuses with a category each) and the segment weights."""
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.ADMIN)
    settings, _ = BacklogSettings.objects.get_or_create(product=product)
    errors: dict = {}
    if workflow is not None:
        keys = [s.get("key") for s in workflow if isinstance(s, dict)]
        if (
            not workflow
            or len(keys) != len(workflow)
            or any(not k or not re.fullmatch(r"[a-z][a-z0-9_]*", k) for k in keys)
        ):
            errors["workflow"] = ["Each status needs a key of lowercase letters, digits and _."]
        elif len(set(keys)) != len(keys):
            errors["workflow"] = ["Status keys must be unique."]
        elif any(s.get("category") not in CATEGORIES for s in workflow):
            errors["workflow"] = [f"Each status needs a category: {', '.join(CATEGORIES)}."]
        elif not any(s["category"] == CATEGORY_DONE for s in workflow):
            errors["workflow"] = ["A workflow needs at least one done status."]
        else:
            used = set(Story.objects.filter(product=product).values_list("status", flat=True).distinct())
            missing = used - set(keys)
            if missing:
                errors["workflow"] = [f"Stories still use: {', '.join(sorted(missing))}."]
    if segment_weights is not None:
        if not isinstance(segment_weights, dict):
            errors["segment_weights"] = ["Send an object of segment name to weight."]
        else:
            try:
                segment_weights = {str(k): float(v) for k, v in segment_weights.items()}
                if any(v < 0 for v in segment_weights.values()):
                    raise ValueError
            except (TypeError, ValueError):
                errors["segment_weights"] = ["Weights must be numbers ≥ 0."]
    if errors:
        raise ValidationError(errors)
    if workflow is not None:
        settings.workflow = [
            {"key": s["key"], "label": s.get("label") or s["key"], "category": s["category"]} for s in workflow
        ]
    if segment_weights is not None:
        settings.segment_weights = segment_weights
    settings.save()
    if segment_weights is not None:
        demand_recompute(product=product)
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="updated backlog settings", target=product)
    return settings


# --- scoring -------------------------------------------------------------------------------
def _inputs_for(item, model: ScoringModel) -> dict:
    values = dict(item.score_inputs or {})
    for c in model.criteria if model.framework == "weighted" else []:
        if c.get("source") == "custom_field":
            values[c["key"]] = (item.custom_values or {}).get(c.get("field") or c["key"])
        elif c.get("source") == "demand":
            values[c["key"]] = getattr(item, "demand", 0)
    return values


def explain(item, model: ScoringModel) -> scoring.Explanation:
    return scoring.try_evaluate(
        framework=model.framework,
        criteria=model.criteria,
        inputs=_inputs_for(item, model),
        moscow=getattr(item, "moscow", ""),
        kano=getattr(item, "kano", ""),
    )


def score_of(item, model: ScoringModel, *, strict: bool) -> Decimal | None:
    """The item's score. strict (a write that touched inputs): once any input is given, every
    input must be valid (field errors); otherwise an incomplete item is unscored (None)."""
    inputs = _inputs_for(item, model)
    moscow, kano = getattr(item, "moscow", ""), getattr(item, "kano", "")
    given = scoring.has_any_input(
        framework=model.framework,
        criteria=model.criteria,
        score_inputs=item.score_inputs or {},
        moscow=moscow,
        kano=kano,
    )
    if strict and given:
        try:
            return scoring.evaluate(
                framework=model.framework, criteria=model.criteria, inputs=inputs, moscow=moscow, kano=kano
            ).score
        except scoring.ScoringError as e:
            raise ValidationError(e.errors)
    return scoring.try_evaluate(
        framework=model.framework, criteria=model.criteria, inputs=inputs, moscow=moscow, kano=kano
    ).score


def _clean_score_inputs(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError({"score_inputs": "Send an object of input name to number."})
    return {k: v for k, v in value.items() if v not in (None, "")}


@transaction.atomic
def scoring_model_update(
    *, actor, product, framework: str, criteria: list | None = None
) -> tuple[ScoringModel, object]:
    """Change the product's model; re-scoring of every story and epic runs as a Celery task
    (set-based, in batches) with a BackgroundJob for progress. Returns (model, job)."""
    _editor(actor, product)
    if framework not in ScoringModel.Framework.values:
        raise ValidationError({"framework": f"Choose one of: {', '.join(ScoringModel.Framework.values)}."})
    criteria = criteria or []
    if framework == "weighted":
        errors = scoring.validate_criteria(criteria)
        if errors:
            raise ValidationError(errors)
        criteria = [
            {
                "key": c["key"],
                "label": c.get("label") or c["key"],
                "weight": float(c.get("weight", 1)),
                "against": bool(c.get("against")),
                "source": c.get("source", "input"),
                **({"field": c["field"]} if c.get("field") else {}),
            }
            for c in criteria
        ]
    else:
        criteria = []
    model, _ = ScoringModel.objects.select_for_update().get_or_create(product=product)
    model.framework, model.criteria = framework, criteria
    model.version += 1
    model.save()
    total = Story.objects.filter(product=product).count() + Epic.objects.filter(product=product).count()
    job = job_create(
        workspace_id=product.workspace_id,
        kind="backlog.rescore",
        user=actor,
        total=total,
        params={"product_id": product.id, "model_version": model.version},
    )
    from .tasks import rescore_product

    rescore_product.delay_on_commit(product.id, job.id)
    activity_record(
        workspace_id=product.workspace_id,
        actor=actor,
        verb="changed scoring model",
        target=product,
        data={"framework": framework},
    )
    return model, job


def rescore_product(*, product_id: int, job_id: int | None = None) -> int:
    """Recompute every story's and epic's score: read in batches, compute in Python, write with
    bulk_update in chunks (no save per row). Idempotent: running twice gives the same scores."""
    product = Product.objects.get(id=product_id)
    model = selectors.scoring_model_of(product)
    done = 0
    for cls, fields in (
        (Story, ["id", "score_inputs", "custom_values", "moscow", "kano", "demand", "score"]),
        (Epic, ["id", "score_inputs", "custom_values", "score"]),
    ):
        last_id = 0
        while True:
            batch = list(
                cls.objects.filter(product_id=product_id, id__gt=last_id).order_by("id").only(*fields)[:RESCORE_BATCH]
            )
            if not batch:
                break
            changed = []
            for item in batch:
                new = score_of(item, model, strict=False)
                if new != item.score:
                    item.score = new
                    changed.append(item)
            if changed:
                _scores_write(cls, changed)
            done += len(batch)
            last_id = batch[-1].id
            if job_id:
                job_progress(job_id=job_id, progress=done)
    if job_id:
        job_finish(job_id=job_id, result={"rescored": done})
    return done


def _scores_write(cls, items) -> None:
    """Write the new scores of a batch in one statement. On PostgreSQL an UPDATE ... FROM (VALUES
    ...) built by psycopg2's execute_values: Django's bulk_update builds a CASE WHEN per row,
    which cost 90 % of a 20,000-story re-score (docs/decisions/0401-scoring.md)."""
    if connection.vendor != "postgresql":
        cls.objects.bulk_update(items, ["score"], batch_size=RESCORE_BATCH)
        return
    from psycopg2.extras import execute_values

    table = cls._meta.db_table
    with connection.cursor() as cursor:
        execute_values(
            cursor,
            f"UPDATE {table} AS t SET score = v.score FROM (VALUES %s) AS v(id, score) WHERE t.id = v.id",  # noqa: S608
            [(item.id, item.score) for item in items],
            template="(%s, %s::numeric)",
            page_size=RESCORE_BATCH,
        )


def what_if(*, product, framework: str, criteria: list | None = None, limit: int = 50) -> dict:
    """Ranking under a candidate model, without writing: [{story, old_score, new_score,
    old_position, new_position}] for the top `limit` under the new model."""
    candidate = ScoringModel(product=product, framework=framework, criteria=criteria or [])
    if framework not in ScoringModel.Framework.values:
        raise ValidationError({"framework": "Unknown framework."})
    if framework == "weighted":
        errors = scoring.validate_criteria(candidate.criteria)
        if errors:
            raise ValidationError(errors)
    stories = list(
        Story.objects.filter(product=product)
        .exclude(status__in=_excluded_keys(product))
        .only("id", "title", "score", "score_inputs", "custom_values", "moscow", "kano", "demand", "rank")
    )

    def order_key(score):
        return (score is None, -(score or 0))

    old = sorted(stories, key=lambda s: (*order_key(s.score), s.rank))
    old_pos = {s.id: i + 1 for i, s in enumerate(old)}
    new_scores = {s.id: score_of(s, candidate, strict=False) for s in stories}
    new = sorted(stories, key=lambda s: (*order_key(new_scores[s.id]), s.rank))
    rows = [
        {
            "id": s.id,
            "title": s.title,
            "old_score": s.score,
            "new_score": new_scores[s.id],
            "old_position": old_pos[s.id],
            "new_position": i + 1,
            "delta": old_pos[s.id] - (i + 1),
        }
        for i, s in enumerate(new[:limit])
    ]
    return {"framework": framework, "rows": rows, "unscored": sum(1 for v in new_scores.values() if v is None)}


def _excluded_keys(product) -> list[str]:
    return sorted(selectors.status_keys(product=product, categories=(CATEGORY_EXCLUDED,)))


# --- stories -------------------------------------------------------------------------------
def _validate_refs(*, product, data: dict, workflow: list[dict]) -> None:
    errors: dict = {}
    if "title" in data and not (data["title"] or "").strip():
        errors["title"] = ["A story needs a title."]
    if "status" in data and data["status"] not in {s["key"] for s in workflow}:
        errors["status"] = [f"“{data['status']}” is not a status of this product's workflow. Choose one of: "
                            f"{', '.join(s['key'] for s in workflow)}."]
    if data.get("epic_id") and not Epic.objects.filter(id=data["epic_id"], product=product).exists():
        errors["epic_id"] = ["Choose an epic of this product."]
    if data.get("assignee_id") and data["assignee_id"] not in selectors.member_ids_of(product.workspace_id):
        errors["assignee_id"] = ["Choose a member of this workspace."]
    if "labels" in data:
        labels = data["labels"]
        if not isinstance(labels, list) or any(not isinstance(x, str) or not x.strip() or len(x) > 40 for x in labels):
            errors["labels"] = ["Labels are a list of short texts."]
        else:
            data["labels"] = list(dict.fromkeys(x.strip() for x in labels))
    if data.get("moscow") and data["moscow"] not in Story.MoSCoW.values:
        errors["moscow"] = ["Choose must, should, could or wont."]
    if data.get("kano") and data["kano"] not in Story.Kano.values:
        errors["kano"] = [f"Choose one of: {', '.join(Story.Kano.values)}."]
    if data.get("points") is not None and (not isinstance(data["points"], int) or not 0 <= data["points"] <= 1000):
        errors["points"] = ["Points are a whole number from 0 to 1000."]
    if errors:
        raise ValidationError(errors)


def _last_rank(product_id: int) -> str | None:
    return Story.objects.filter(product_id=product_id).order_by("-rank").values_list("rank", flat=True).first()


def _first_rank(product_id: int) -> str | None:
    return Story.objects.filter(product_id=product_id).order_by("rank").values_list("rank", flat=True).first()


def _rank_for(*, product_id: int, neighbours) -> str:
    """The one way a rank key is chosen for a single story (create at top or bottom, move): the
    key between `neighbours()` (low, high; None is an open end), with the product row already
    locked. A key longer than ranking.HARD_LENGTH, or a neighbour whose key is not well formed
    (written by hand or by an old release), rebalances the product inline and asks again; a
    long-ish key (ranking.REBALANCE_LENGTH) is written and the worker rebalances after commit.
    Inserts at the ends never get there (their keys grow logarithmically)."""
    try:
        key = ranking.key_between(*neighbours())
    except ValueError:
        key = None
    if key is None or ranking.must_rebalance(key):
        rebalance(product_id=product_id)
        key = ranking.key_between(*neighbours())
    elif ranking.needs_rebalance(key):
        _schedule_rebalance(product_id)
    return key


def _ranks_at_bottom(*, product_id: int, n: int) -> list[str]:
    """n increasing keys after the product's last story (bulk create and import), with the same
    rebalance rules as `_rank_for`."""
    try:
        keys = ranking.keys_between(_last_rank(product_id), None, n)
    except ValueError:
        keys = None
    if keys is None or (keys and ranking.must_rebalance(max(keys, key=len))):
        rebalance(product_id=product_id)
        keys = ranking.keys_between(_last_rank(product_id), None, n)
    elif keys and ranking.needs_rebalance(max(keys, key=len)):
        _schedule_rebalance(product_id)
    return keys


def _schedule_rebalance(product_id: int) -> None:
    from .tasks import rebalance_product

    rebalance_product.delay_on_commit(product_id)


# The product's row lock, compiled once (pmhub.prepared; decision 2111).
_PRODUCT_LOCK = Prepared(Product, lambda product_id, *_: (
    Product.objects.select_for_update().filter(id=product_id).order_by().values_list("id")))


def _product_lock_of(product_id: int) -> tuple[str, tuple]:
    """The statement of `_lock_product`, to send with the read it guards (pmhub.sqlbatch)."""
    return _PRODUCT_LOCK.statement(product_id)


def _lock_product(product_id: int) -> None:
    """Serialize rank writes within a product (moves, inserts): one row lock on the product."""
    sqlbatch.run([_product_lock_of(product_id)])


def _rank_move_commit() -> list[tuple[str, tuple]]:
    """A rank move's transaction does not wait for its WAL flush (decision 1962): the statement
    that says so, sent with the move's first statements; none when settings turn it off."""
    from django.conf import settings

    if connection.vendor != "postgresql" or not getattr(settings, "RANK_MOVE_ASYNC_COMMIT", True):
        return []
    return [("SET LOCAL synchronous_commit = off", ())]


def _notify_assignment(*, story, actor) -> None:
    if story.assignee_id and story.assignee_id != getattr(actor, "id", None):
        notify(
            recipient=story.assignee,
            kind="assignment",
            title=f"You were assigned “{story.title}”",
            url=story_url(story),
            workspace_id=story.product.workspace_id,
            data={"story_id": story.id},
        )


def story_url(story) -> str:
    from django.urls import reverse

    return reverse(
        "backlog:story",
        kwargs={"ws": story.product.workspace.slug, "product_id": story.product_id, "story_id": story.id},
    )


# The key at either end of a product's backlog (top: True) and the columns a create reads back,
# compiled once (pmhub.prepared; decision 2111).
_END_READS = {
    True: Prepared(Story, lambda product_id, *_: (
        Story.objects.filter(product_id=product_id).order_by("rank").values_list("rank")[:1])),
    False: Prepared(Story, lambda product_id, *_: (
        Story.objects.filter(product_id=product_id).order_by("-rank").values_list("rank")[:1])),
}
_STORED_READ = Prepared(Story, lambda story_id, *_: Story.objects.filter(id=story_id).values_list(*STORED_NORMALISED))


@transaction.atomic
def story_create(
    *, actor, product, title: str, criteria: list[str] | None = None, position: str = "bottom", at=None, **data
) -> Story:
    """Create a story at the bottom (or top) of the backlog, scored by the product's model.
    `at`: when it happened, for replayed history (the demo); now by default."""
    _editor(actor, product)
    # The product's custom fields and the workspace's subscribers (webhook_emit below): one cache
    # round trip (decision 2112).
    with subscribers_read_together(product.workspace_id, also=(("customfields", product.id),)):
        return _story_create(actor=actor, product=product, title=title, criteria=criteria, position=position,
                             at=at, data=data)


def _created_product_read(product_id: int, *, top: bool):
    """The product of a create as the API reads it (alive, with its workspace, workflow settings
    and scoring model: roadmaps.selectors.product_for_user's query), with the key at the end of its
    backlog the story goes to (`_end_rank`) and the new story's id (`_new_id`, PostgreSQL)."""
    from django.db.models.expressions import RawSQL

    from roadmaps.selectors import product_query

    end = Story.objects.filter(product_id=OuterRef("id")).order_by("rank" if top else "-rank").values("rank")[:1]
    return (product_query(STORY_PRODUCT_RELATED).build(product_id)
            .annotate(_end_rank=Subquery(end),
                      _new_id=RawSQL(sqlbatch.next_id_sql(Story), (), output_field=BigIntegerField())))  # noqa: S611 - no input


# What the story services read of a product with it (the API's product query names them).
STORY_PRODUCT_RELATED = ("backlog_settings", "scoring_model")
# A create's first batch by the product's id (decision 2201): the product's row lock, taken only in
# a workspace the caller may edit in, then the product with its end key and the new story's id.
_CREATED_PRODUCT_READS = {
    True: Prepared(Product, lambda product_id, *_: _created_product_read(product_id, top=True)),
    False: Prepared(Product, lambda product_id, *_: _created_product_read(product_id, top=False)),
}
_PRODUCT_LOCK_IN = Prepared(Product, lambda product_id, workspace_ids: (
    Product.objects.select_for_update().filter(id=product_id, workspace_id__in=workspace_ids)
    .order_by().values_list("id")))


@sqlbatch.atomic_begun_with_first()
def story_create_by_product_id(*, actor, product_id: int, workspace_ids: list[int], allowed, title: str,
                               criteria: list[str] | None = None, position: str = "bottom", at=None,
                               read_before=None, **data) -> Story:
    """`story_create` in the product with this id, read in the create's first round trip instead
    of before the transaction (decision 2201): [the product's row lock, the product with its end
    key and the new id]. `workspace_ids`: where the caller may create (the lock is only taken
    there); `allowed(product_or_None)` raises the 404 a caller who may not see it gets. Then the
    same checks, in the same order, as story_create (403, 400s: nothing written, rolled back).
    PostgreSQL (the new id comes from the sequence). `read_before`: the cache keys of
    `create_cache_keys` already read in this request ((keys, {key: value} found); decision 2356)."""
    assert workspace_ids
    known = workspace_ids_for(actor)
    # The custom fields and, for a caller of one workspace (an API token), the workspace's
    # subscribers: one cache round trip before the transaction's first statement (decision 2112).
    guess = known[0] if len(known) == 1 else None
    with subscribers_read_together(guess, also=(("customfields", product_id),), read_before=read_before):
        read = _CREATED_PRODUCT_READS[position == "top"]
        rows = sqlbatch.run([_PRODUCT_LOCK_IN.statement(product_id, list(workspace_ids)),
                             read.statement(product_id)])
        found = read.objects_from(rows, product_id)
        product = found[0] if found else None
        allowed(product)
        _editor(actor, product)
        with subscribers_read_together(product.workspace_id):  # nothing more to read when guessed right
            return _story_create(actor=actor, product=product, title=title, criteria=criteria, position=position,
                                 at=at, data=data, first=(product._end_rank, product._new_id))


def _story_create(*, actor, product, title, criteria, position, at, data, first=None) -> Story:
    at = at or timezone.now()
    data["title"] = title
    data = {k: v for k, v in data.items() if k in STORY_FIELDS}
    workflow = workflow_of(product)
    data.setdefault("status", workflow[0]["key"])
    _validate_refs(product=product, data=data, workflow=workflow)
    fields = selectors.custom_fields_of(product)
    values = data.get("custom_values") or {}
    # Members are only read to check a value of a "user" field.
    needs_members = any(f.type == "user" for f in fields if f.key in values)
    member_ids = selectors.member_ids_of(product.workspace_id) if needs_members else set()
    data["custom_values"] = customfields.clean_values(fields=fields, values=values, member_ids=member_ids)
    data["score_inputs"] = _clean_score_inputs(data.get("score_inputs") or {})
    # The product's row lock and the end's key, read after the lock is held: one round trip
    # (decision 1960); read again only after an inline rebalance rewrote the keys.
    # On PostgreSQL the new story's id comes in the same round trip, so the story, its status event,
    # its activity line and the read-back travel together below.
    # `first`: the same, read by the caller under the lock it took (story_create_by_product_id).
    if first is not None:
        new_id, found = True, [first]
    else:
        end_sql, end_params = _END_READS[position == "top"].statement(product.id)
        new_id = connection.vendor == "postgresql"
        read = (f"SELECT ({end_sql}), {sqlbatch.next_id_sql(Story)}", end_params) if new_id else (end_sql, end_params)
        found = sqlbatch.run([_product_lock_of(product.id), read])
    first_read = iter([found[0][0] if found else None])

    def end_key():
        key = next(first_read, first_read)
        if key is first_read:
            ends = Story.objects.filter(product_id=product.id).order_by("rank" if position == "top" else "-rank")
            return ends.values_list("rank", flat=True).first()
        return key

    if position == "top":
        rank = _rank_for(product_id=product.id, neighbours=lambda: (None, end_key()))
    else:
        rank = _rank_for(product_id=product.id, neighbours=lambda: (end_key(), None))
    story = Story(product=product, rank=rank, **data)
    story.title = story.title.strip()
    story.score = score_of(story, selectors.scoring_model_of(product), strict=True)
    if is_done(workflow, story.status):
        story.done_at = at
    story.full_clean(exclude=["rank", "product", "epic", "assignee"])
    if new_id:
        story.id = found[0][1]
        story_insert = [sqlbatch.insert_of(story)]
    else:
        story.save()
        story_insert = []
    # The receivers' rows (delivery's status event: sqlbatch.insert_soon) go with the story's INSERT,
    # its activity line and the read-back of the columns the database normalises (jsonb key order,
    # numeric scale, as a GET reads them): one round trip. The story answered is the stored one.
    with sqlbatch.collected() as pending:
        story_status_changed.send(sender=Story, story=story, old_status=None, new_status=story.status, at=at)
    stored = sqlbatch.run([
        *story_insert,
        *pending,
        sqlbatch.insert_of(activity_build(workspace_id=product.workspace_id, actor=actor, verb="created story",
                                          target=story)),
        _STORED_READ.statement(story.id),
    ])
    story._state.adding, story._state.db = False, "default"
    created = AcceptanceCriterion.objects.bulk_create(
        [
            AcceptanceCriterion(story=story, text=t.strip()[:500], position=i)
            for i, t in enumerate(criteria or [])
            if t and t.strip()
        ]
    )
    # As prefetch_related would: story.criteria.all() answers these (in position order), no re-read.
    written = AcceptanceCriterion.objects.filter(story=story)
    written._result_cache, written._prefetch_done = created, True
    story._prefetched_objects_cache = {"criteria": written}
    for attname, value in sqlbatch.from_db(Story, STORED_NORMALISED, stored[0]).items():
        setattr(story, attname, value)
    # Nobody can have asked for a story that did not exist (backlog.demand.askers_of): no query.
    story._askers_none = True
    webhook_emit(workspace_id=product.workspace_id, event="story.created", payload=story_payload(story))
    _notify_assignment(story=story, actor=actor)
    return story


@transaction.atomic
def stories_bulk_create(*, actor, product, stories: list[dict]) -> list[Story]:
    """Create many stories at the bottom of the backlog with one bulk insert (plus one for the
    acceptance criteria). Ranks are spread by bisection after the current last story; scores
    computed by the product's model (incomplete inputs: unscored). Validation covers every row
    first; errors are keyed "row <n>: field". One status signal per story (old_status None)."""
    _editor(actor, product)
    workflow = workflow_of(product)
    status_keys = {s["key"] for s in workflow}
    default_status = workflow[0]["key"]
    epic_ids = set(Epic.objects.filter(product=product).values_list("id", flat=True))
    member_ids = selectors.member_ids_of(product.workspace_id)
    fields = selectors.custom_fields_of(product)
    model = selectors.scoring_model_of(product)
    now = timezone.now()
    errors: dict = {}
    objs, criteria_lists = [], []
    for n, row in enumerate(stories, start=1):
        row_errors = []
        title = str(row.get("title") or "").strip()
        if not title:
            row_errors.append("title: required")
        status = row.get("status") or default_status
        if status not in status_keys:
            row_errors.append(f"status: unknown {status!r}")
        if row.get("epic_id") and row["epic_id"] not in epic_ids:
            row_errors.append("epic_id: not an epic of this product")
        if row.get("assignee_id") and row["assignee_id"] not in member_ids:
            row_errors.append("assignee_id: not a member")
        points = row.get("points")
        if points not in (None, "") and (not str(points).isdigit() or int(points) > 1000):
            row_errors.append("points: whole number 0-1000")
        labels = row.get("labels") or []
        try:
            custom = customfields.clean_values(
                fields=fields, values=row.get("custom_values") or {}, member_ids=member_ids
            )
        except ValidationError as e:
            row_errors += [f"{k}: {' '.join(v)}" for k, v in e.message_dict.items()]
            custom = {}
        if row_errors:
            errors[f"row {n}"] = row_errors
            continue
        story = Story(
            product=product,
            title=title[:200],
            status=status,
            description=str(row.get("description") or ""),
            as_a=str(row.get("as_a") or "")[:200],
            i_want=str(row.get("i_want") or ""),
            so_that=str(row.get("so_that") or ""),
            points=int(points) if points not in (None, "") else None,
            epic_id=row.get("epic_id") or None,
            assignee_id=row.get("assignee_id") or None,
            labels=list(dict.fromkeys(str(x).strip() for x in labels if str(x).strip())),
            score_inputs=dict(row.get("score_inputs") or {}),
            custom_values=custom,
            done_at=now if is_done(workflow, status) else None,
        )
        story.score = score_of(story, model, strict=False)
        objs.append(story)
        criteria_lists.append([str(t).strip()[:500] for t in row.get("acceptance_criteria") or [] if str(t).strip()])
    if errors:
        raise ValidationError(errors)
    _lock_product(product.id)
    for story, rank in zip(objs, _ranks_at_bottom(product_id=product.id, n=len(objs)), strict=True):
        story.rank = rank
    created = Story.objects.bulk_create(objs, batch_size=1000)
    AcceptanceCriterion.objects.bulk_create(
        [
            AcceptanceCriterion(story=s, text=t, position=i)
            for s, texts in zip(created, criteria_lists, strict=True)
            for i, t in enumerate(texts)
        ],
        batch_size=1000,
    )
    # One signal and one webhook batch for the whole import, not one per story (10,000-row imports).
    stories_created.send(sender=Story, stories=created, at=now)
    webhook_emit_many(workspace_id=product.workspace_id, event="story.created",
                      payloads=[story_payload(story) for story in created])
    activity_record(
        workspace_id=product.workspace_id,
        actor=actor,
        verb="imported stories",
        target=product,
        data={"count": len(created)},
    )
    return created


@transaction.atomic
def story_update(*, actor, story: Story, data: dict, version: int | None, at=None) -> Story:
    """Update fields of a story (optimistic locking on `version`: stale -> 409 with current state).
    Re-scores when an input changes, keeps done_at (set when the status enters a done category
    of the workflow, cleared when it leaves), signals a status change, notifies a new assignee.
    `at`: when the change happened, for replayed history (the demo); now by default."""
    at = at or timezone.now()
    product = story.product
    _editor(actor, product)
    data = {k: v for k, v in data.items() if k in STORY_FIELDS}
    workflow = workflow_of(product)
    _validate_refs(product=product, data=data, workflow=workflow)
    if "custom_values" in data:
        data["custom_values"] = customfields.clean_values(
            fields=selectors.custom_fields_of(product),
            values=data["custom_values"] or {},
            current=story.custom_values,
            member_ids=selectors.member_ids_of(product.workspace_id),
        )
    if "score_inputs" in data:
        data["score_inputs"] = _clean_score_inputs({**story.score_inputs, **(data["score_inputs"] or {})})
    if "title" in data:
        data["title"] = data["title"].strip()
    old_status, old_assignee = story.status, story.assignee_id
    probe = Story(**{f.attname: getattr(story, f.attname) for f in Story._meta.concrete_fields})
    for k, v in data.items():
        setattr(probe, k, v)
    model = selectors.scoring_model_of(product)
    touched_inputs = any(k in data for k in ("score_inputs", "custom_values", "moscow", "kano"))
    data["score"] = score_of(probe, model, strict=touched_inputs)
    if "status" in data and data["status"] != old_status:
        done_now, done_before = is_done(workflow, data["status"]), is_done(workflow, old_status)
        if done_now and not done_before:
            data["done_at"] = at
        elif done_before and not done_now:
            data["done_at"] = None
    versioned_update(
        instance=story,
        data=data,
        fields=[*STORY_FIELDS, "score", "done_at"],
        expected_version=version,
        serialize=story_payload,
    )
    if story.status != old_status:
        story_status_changed.send(sender=Story, story=story, old_status=old_status, new_status=story.status, at=at)
    activity_record(
        workspace_id=product.workspace_id,
        actor=actor,
        verb="updated story",
        target=story,
        data={"fields": sorted(k for k in data if k != "score")},
    )
    webhook_emit(workspace_id=product.workspace_id, event="story.updated", payload=story_payload(story))
    if story.assignee_id != old_assignee:
        _notify_assignment(story=story, actor=actor)
    return story


@transaction.atomic
def story_delete(*, actor, story: Story) -> None:
    _editor(actor, story.product)
    activity_record(
        workspace_id=story.product.workspace_id,
        actor=actor,
        verb="deleted story",
        data={"title": story.title, "id": story.id},
    )
    story.delete()


def _move_siblings(product_id: int, story_id: int):
    return Story.objects.filter(product_id=product_id).exclude(id=story_id)


def _move_beside(siblings, anchor, *, before: bool):
    """The sibling right before (or after) the anchor's key: a queryset of its key."""
    if before:
        return siblings.filter(rank__lt=anchor).order_by("-rank").values_list("rank", flat=True)
    return siblings.filter(rank__gt=anchor).order_by("rank").values_list("rank", flat=True)


def _anchor_read(product_id: int, story_id: int, anchor_id: int, *, before: bool):
    """The anchor's key and its neighbour's on the side the story goes to, in one row."""
    siblings = _move_siblings(product_id, story_id)
    beside = _move_beside(siblings, OuterRef("rank"), before=before)
    return (siblings.filter(id=anchor_id).annotate(_beside=Subquery(beside[:1]))
            .order_by().values_list("rank", "_beside")[:1])


# A move's anchor read, compiled once per side (before: True, after: False).
_ANCHOR_READS = {
    True: Prepared(Story, lambda product_id, story_id, anchor_id: _anchor_read(product_id, story_id, anchor_id,
                                                                              before=True)),
    False: Prepared(Story, lambda product_id, story_id, anchor_id: _anchor_read(product_id, story_id, anchor_id,
                                                                               before=False)),
}


def _moved_story_read(story_id: int, anchor_id: int, *, before: bool):
    """The moved story as a move reads it (with its product, epic and assignee; its product not
    deleted), annotated with the anchor's key (`_anchor_rank`: None unless the anchor is another
    story of the same product) and its neighbour's on the side the story goes to (`_beside`):
    `_anchor_read`'s answer in the story's own row (decision 2200)."""
    siblings = Story.objects.filter(product_id=OuterRef("product_id")).exclude(id=OuterRef("id"))
    anchor = siblings.filter(id=anchor_id).values_list("rank", flat=True)[:1]
    # The neighbour's key beside the anchor's (if the anchor is not a sibling, _anchor_rank says so).
    beside = _move_beside(siblings, Subquery(Story.objects.filter(id=anchor_id).values("rank")[:1]), before=before)
    return (selectors.stories_for_write().filter(pk=story_id)
            .annotate(_anchor_rank=Subquery(anchor), _beside=Subquery(beside[:1])))


# A move's first batch by the story's id (decision 2200): the product's row lock through the story,
# taken only for a product of a workspace the caller may edit in, and the story with its anchor.
_MOVED_STORY_READS = {
    True: Prepared(Story, lambda story_id, anchor_id: _moved_story_read(story_id, anchor_id, before=True)),
    False: Prepared(Story, lambda story_id, anchor_id: _moved_story_read(story_id, anchor_id, before=False)),
}
_PRODUCT_LOCK_OF_STORY = Prepared(Product, lambda story_id, workspace_ids: (
    Product.objects.select_for_update()
    .filter(id=Subquery(Story.objects.filter(id=story_id).values("product_id")[:1]), workspace_id__in=workspace_ids)
    .order_by().values_list("id")))


@transaction.atomic
def story_move_by_id(*, actor, story_id: int, before: int | None, after: int | None, workspace_ids: list[int],
                     allowed) -> Story:
    """`story_move` of the story with this id, read in the move's first round trip instead of
    before the transaction (decision 2200): [commit mode, the product's row lock, the story with
    the anchor's key and its neighbour's]. `workspace_ids`: where the caller may move stories (the
    lock is only taken there); `allowed(story_or_None)` raises the 404 or 403 a refused caller gets,
    before anything is written (the transaction rolls back). Exactly one of before/after, not the
    story itself: the caller checked (story_move's ValidationErrors come from story_move)."""
    anchor_id = before if before is not None else after
    assert (before is None) != (after is None) and anchor_id != story_id and workspace_ids
    read = _MOVED_STORY_READS[before is not None]
    rows = sqlbatch.run([*_rank_move_commit(), _PRODUCT_LOCK_OF_STORY.statement(story_id, list(workspace_ids)),
                         read.statement(story_id, anchor_id)])
    found = read.objects_from(rows, story_id, anchor_id)
    story = found[0] if found else None
    allowed(story)
    _editor(actor, story.product)
    if story._anchor_rank is None:
        raise ValidationError({"before" if before is not None else "after": "Choose a story of the same backlog."})
    return _story_moved(actor=actor, story=story, before=before, after=after,
                        first=[(story._anchor_rank, story._beside)])


@transaction.atomic
def story_move(*, actor, story: Story, before: int | None = None, after: int | None = None) -> Story:
    """Move a story directly before or after another story of the same product.

    Concurrency: the product row is locked (SELECT ... FOR UPDATE) before the neighbours are
    read, so two moves in one product run one after the other and never compute the same key;
    the unique (product, rank) constraint is the last line of defence. Writes ONE row: the
    moved story's rank. When its key gets long, the product is rebalanced (rare)."""
    _editor(actor, story.product)
    if (before is None) == (after is None):
        raise ValidationError({"before": "Give exactly one of before or after."})
    anchor_id = before if before is not None else after
    if anchor_id == story.id:
        raise ValidationError({"before" if before is not None else "after": "A story cannot move next to itself."})
    # One round trip (decision 1960): the commit mode of this transaction (decision 1962), the
    # product's row lock, then the anchor's key and its neighbour's, read after the lock is held;
    # the statements compiled once (decision 2111).
    anchor_read = _ANCHOR_READS[before is not None].statement(story.product_id, story.id, anchor_id)
    first = sqlbatch.run([*_rank_move_commit(), _product_lock_of(story.product_id), anchor_read])
    if not first:
        raise ValidationError({"before" if before is not None else "after": "Choose a story of the same backlog."})
    return _story_moved(actor=actor, story=story, before=before, after=after, first=first)


def _story_moved(*, actor, story: Story, before: int | None, after: int | None, first: list[tuple]) -> Story:
    """The rest of a move once the product is locked and `first` holds the anchor's key and its
    neighbour's as read under the lock: the new key, the UPDATE and its activity line, the webhook."""
    anchor_id = before if before is not None else after
    first_read = iter(first)

    def neighbours():
        # The keys as read above; read again after an inline rebalance rewrote every key.
        found = next(first_read, None)
        if found is None:
            siblings = _move_siblings(story.product_id, story.id)
            anchor = siblings.filter(id=anchor_id).values_list("rank", flat=True).get()
            found = anchor, _move_beside(siblings, anchor, before=before is not None).first()
        anchor, other = found
        return (other, anchor) if before is not None else (anchor, other)

    new_rank = _rank_for(product_id=story.product_id, neighbours=neighbours)
    now = timezone.now()
    story.rank, story.updated_at = new_rank, now  # the answer shows what was written
    # The one-row UPDATE and its activity line: one round trip.
    sqlbatch.run([
        sqlbatch.update_of(Story.objects.filter(id=story.id), rank=new_rank, updated_at=now),
        sqlbatch.insert_of(activity_build(workspace_id=story.product.workspace_id, actor=actor, verb="moved story",
                                          target=story)),
    ])
    webhook_emit(
        workspace_id=story.product.workspace_id,
        event="story.moved",
        payload={"id": story.id, "product_id": story.product_id, "rank": new_rank, "before": before, "after": after},
    )
    return story


@transaction.atomic
def rebalance(*, product_id: int) -> int:
    """Rewrite every rank of a product with short, evenly spaced keys (order unchanged, ties in
    an old or malformed key broken by id). Two passes under the unique (product, rank)
    constraint: first every row gets a temporary key that starts with "~" (after every digit and
    letter, never a real key), then the final keys, so no statement ever sees a duplicate."""
    _lock_product(product_id)
    stories = list(Story.objects.filter(product_id=product_id).order_by("rank", "id").only("id", "rank"))
    for s in stories:
        s.rank = f"~{s.id}"
    Story.objects.bulk_update(stories, ["rank"], batch_size=1000)
    for s, k in zip(stories, ranking.even_keys(len(stories)), strict=True):
        s.rank = k
    Story.objects.bulk_update(stories, ["rank"], batch_size=1000)
    return len(stories)


@transaction.atomic
def stories_bulk_update(
    *,
    actor,
    product,
    ids: list[int],
    status: str | None = None,
    epic_id: int | None | str = "",
    add_labels: list[str] | None = None,
    remove_labels: list[str] | None = None,
) -> int:
    """Change status, epic and/or labels of a selection. Ids are filtered by product AND
    workspace; an id outside them rejects the whole request (nothing changes)."""
    _editor(actor, product)
    try:
        ids = sorted({int(i) for i in ids})
    except (TypeError, ValueError):
        raise ValidationError({"ids": "Send a list of story ids."})
    if not ids:
        raise ValidationError({"ids": "Select at least one story."})
    stories = list(
        Story.objects.select_for_update()
        .filter(id__in=ids, product=product, product__workspace_id=product.workspace_id)
        .select_related("product")
    )
    if len(stories) != len(ids):
        missing = set(ids) - {s.id for s in stories}
        raise ValidationError({"ids": f"Not stories of this backlog: {ids_text(missing)}. Nothing was changed."})
    workflow = workflow_of(product)
    check = {}
    if status:
        check["status"] = status
    if epic_id not in ("", None):
        check["epic_id"] = int(epic_id)
    _validate_refs(product=product, data=check, workflow=workflow)
    now = timezone.now()
    changed, old_statuses = [], {}
    for s in stories:
        touched = False
        if status and s.status != status:
            old_statuses[s.id] = s.status
            if is_done(workflow, status) and not is_done(workflow, s.status):
                s.done_at = now
            elif not is_done(workflow, status) and is_done(workflow, s.status):
                s.done_at = None
            s.status, touched = status, True
        if epic_id != "":
            new_epic = int(epic_id) if epic_id not in (None, "none") else None
            if s.epic_id != new_epic:
                s.epic_id, touched = new_epic, True
        if add_labels or remove_labels:
            labels = [x for x in s.labels if x not in (remove_labels or [])]
            labels += [x.strip() for x in add_labels or [] if x.strip() and x.strip() not in labels]
            if labels != s.labels:
                s.labels, touched = labels, True
        if touched:
            s.version += 1
            s.updated_at = now
            changed.append(s)
    Story.objects.bulk_update(
        changed, ["status", "done_at", "epic_id", "labels", "version", "updated_at"], batch_size=1000
    )
    for s in changed:
        if s.id in old_statuses:
            story_status_changed.send(sender=Story, story=s, old_status=old_statuses[s.id], new_status=s.status, at=now)
        webhook_emit(workspace_id=product.workspace_id, event="story.updated", payload=story_payload(s))
    activity_record(
        workspace_id=product.workspace_id,
        actor=actor,
        verb="bulk edited stories",
        target=product,
        data={"count": len(changed)},
    )
    return len(changed)


# --- acceptance criteria and comments ---------------------------------------------------------
@transaction.atomic
def criterion_add(*, actor, story, text: str) -> AcceptanceCriterion:
    _editor(actor, story.product)
    if not (text or "").strip():
        raise ValidationError({"text": "Write the criterion."})
    position = story.criteria.count()
    criterion = AcceptanceCriterion.objects.create(story=story, text=text.strip()[:500], position=position)
    _criteria_changed(story=story, criterion=criterion, action="added")
    return criterion


@transaction.atomic
def criterion_toggle(*, actor, criterion: AcceptanceCriterion, done: bool) -> AcceptanceCriterion:
    _editor(actor, criterion.story.product)
    criterion.done = done
    criterion.save(update_fields=["done"])
    _criteria_changed(story=criterion.story, criterion=criterion, action="ticked" if done else "unticked")
    return criterion


def _criteria_changed(*, story, criterion: AcceptanceCriterion, action: str) -> None:
    """`story.criteria_changed`: ids and counts, never the criterion's text (decision 1834)."""
    counts = story.criteria.aggregate(total=Count("id"), done=Count("id", filter=Q(done=True)))
    webhook_emit(workspace_id=story.product.workspace_id, event="story.criteria_changed", payload={
        "id": story.id, "product_id": story.product_id, "criterion_id": criterion.id, "action": action,
        "done": counts["done"], "total": counts["total"]})


def mentioned_users(*, body: str, workspace_id: int) -> list[User]:
    """@alice@example.com or @alice (the part of a member's e-mail before the @)."""
    handles = {m.lower() for m in MENTION_RE.findall(body or "")}
    if not handles:
        return []
    members = list(selectors.members_of(workspace_id))
    return [u for u in members if u.email.lower() in handles or u.email.split("@")[0].lower() in handles]


@transaction.atomic
def comment_create(*, actor, story, body: str) -> Comment:
    """Comment on a story; every mentioned member (but the author) is notified."""
    _editor(actor, story.product)
    if not (body or "").strip():
        raise ValidationError({"body": "Write a comment."})
    comment = Comment.objects.create(story=story, author=actor, body=body.strip())
    for user in mentioned_users(body=body, workspace_id=story.product.workspace_id):
        if user.id != actor.id:
            notify(
                recipient=user,
                kind="mention",
                title=f"{actor} mentioned you on “{story.title}”",
                url=story_url(story),
                workspace_id=story.product.workspace_id,
                data={"story_id": story.id, "comment_id": comment.id},
            )
    activity_record(workspace_id=story.product.workspace_id, actor=actor, verb="commented on", target=story)
    # Ids only, never the body (decision 1834): a receiver reads the text through the API.
    webhook_emit(workspace_id=story.product.workspace_id, event="story.commented", payload={
        "id": story.id, "product_id": story.product_id, "comment_id": comment.id, "author_id": actor.id})
    return comment


# --- epics ---------------------------------------------------------------------------------
EPIC_FIELDS = ["title", "description", "status", "initiative_id", "release_id", "score_inputs", "custom_values"]


def _validate_epic(*, product, data: dict) -> None:
    from roadmaps.models import Initiative, Release

    errors: dict = {}
    if "title" in data and not (data["title"] or "").strip():
        errors["title"] = ["An epic needs a title."]
    if "status" in data and data["status"] not in {s["key"] for s in workflow_of(product)}:
        errors["status"] = ["Choose a status of this product's workflow."]
    if data.get("initiative_id") and not Initiative.objects.filter(id=data["initiative_id"], product=product).exists():
        errors["initiative_id"] = ["Choose an initiative of this product."]
    if data.get("release_id") and not Release.objects.filter(id=data["release_id"], product=product).exists():
        errors["release_id"] = ["Choose a release of this product."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def epic_create(*, actor, product, title: str, **data) -> Epic:
    _editor(actor, product)
    data = {k: v for k, v in {"title": title, **data}.items() if k in EPIC_FIELDS}
    _validate_epic(product=product, data=data)
    data["custom_values"] = customfields.clean_values(
        fields=selectors.custom_fields_of(product, "epic"),
        values=data.get("custom_values") or {},
        member_ids=selectors.member_ids_of(product.workspace_id),
    )
    data["score_inputs"] = _clean_score_inputs(data.get("score_inputs") or {})
    epic = Epic(product=product, **data)
    epic.title = epic.title.strip()
    # Lengths and choices as the columns hold them (a 200 KB title reached the database: 500).
    epic.full_clean(exclude=["product", "initiative", "release", "score", "score_inputs", "custom_values"],
                    validate_constraints=False)
    epic.score = score_of(epic, selectors.scoring_model_of(product), strict=True)
    epic.save()
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="created epic", target=epic)
    webhook_emit(workspace_id=product.workspace_id, event="epic.created", payload=_epic_payload(epic))
    return epic


@transaction.atomic
def epic_update(*, actor, epic: Epic, data: dict, version: int | None) -> Epic:
    product = epic.product
    _editor(actor, product)
    data = {k: v for k, v in data.items() if k in EPIC_FIELDS}
    _validate_epic(product=product, data=data)
    if "custom_values" in data:
        data["custom_values"] = customfields.clean_values(
            fields=selectors.custom_fields_of(product, "epic"),
            values=data["custom_values"] or {},
            current=epic.custom_values,
            member_ids=selectors.member_ids_of(product.workspace_id),
        )
    if "score_inputs" in data:
        data["score_inputs"] = _clean_score_inputs({**epic.score_inputs, **(data["score_inputs"] or {})})
    probe = Epic(**{f.attname: getattr(epic, f.attname) for f in Epic._meta.concrete_fields})
    for k, v in data.items():
        setattr(probe, k, v)
    data["score"] = score_of(
        probe, selectors.scoring_model_of(product), strict="score_inputs" in data or "custom_values" in data
    )
    versioned_update(
        instance=epic,
        data=data,
        fields=[*EPIC_FIELDS, "score"],
        expected_version=version,
        serialize=lambda e: {"id": e.id, "title": e.title, "status": e.status, "version": e.version},
    )
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="updated epic", target=epic)
    webhook_emit(workspace_id=product.workspace_id, event="epic.updated", payload=_epic_payload(epic))
    return epic


@transaction.atomic
def epic_delete(*, actor, epic: Epic) -> None:
    _editor(actor, epic.product)
    activity_record(
        workspace_id=epic.product.workspace_id, actor=actor, verb="deleted epic", data={"title": epic.title}
    )
    epic.delete()


# --- custom fields and saved views ----------------------------------------------------------
@transaction.atomic
def custom_field_create(
    *, actor, product, key: str, label: str, type: str, entity: str = "story", options=None, required: bool = False
) -> CustomField:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.ADMIN)
    options = options or []
    errors = customfields.validate_definition(key=key, label=label, type=type, options=options)
    if entity not in CustomField.Entity.values:
        errors["entity"] = ["Choose story or epic."]
    if not errors and CustomField.objects.filter(product=product, entity=entity, key=key).exists():
        errors["key"] = ["This key is already used."]
    if errors:
        raise ValidationError(errors)
    position = CustomField.objects.filter(product=product, entity=entity).count()
    with duplicate_as({"key": ["This key is already used."]}):
        field = CustomField.objects.create(
            product=product,
            entity=entity,
            key=key,
            label=label.strip(),
            type=type,
            options=options if type in ("single_select", "multi_select") else [],
            required=required,
            position=position,
        )
    activity_record(workspace_id=product.workspace_id, actor=actor, verb="added custom field", target=field)
    return field


@transaction.atomic
def custom_field_update(
    *, actor, field: CustomField, label: str | None = None, options=None, required: bool | None = None,
    version: int | None = None,
) -> CustomField:
    require_role(user=actor, workspace_id=field.product.workspace_id, role=Role.ADMIN)
    version_claim(instance=field, expected_version=version)
    errors = customfields.validate_definition(
        key=field.key,
        label=label if label is not None else field.label,
        type=field.type,
        options=options if options is not None else field.options,
    )
    if errors:
        raise ValidationError(errors)
    if label is not None:
        field.label = label.strip()
    if options is not None and field.type in ("single_select", "multi_select"):
        field.options = options
    if required is not None:
        field.required = required
    field.save()
    return field


@transaction.atomic
def custom_field_delete(*, actor, field: CustomField) -> None:
    require_role(user=actor, workspace_id=field.product.workspace_id, role=Role.ADMIN)
    field.delete()


VIEW_KEYS = {"columns", "filters", "group", "sort"}


def _clean_view_config(config) -> dict:
    if not isinstance(config, dict) or set(config) - VIEW_KEYS:
        raise ValidationError({"config": f"Keys allowed: {', '.join(sorted(VIEW_KEYS))}."})
    if "columns" in config and not isinstance(config["columns"], list):
        raise ValidationError({"config": "columns is a list of column names."})
    if "filters" in config and not isinstance(config["filters"], dict):
        raise ValidationError({"config": "filters is an object."})
    return config


@transaction.atomic
def saved_view_create(*, actor, product, name: str, config: dict, shared: bool = False) -> SavedView:
    require_role(user=actor, workspace_id=product.workspace_id, role=Role.VIEWER if not shared else Role.EDITOR)
    if not (name or "").strip():
        raise ValidationError({"name": "Name the view."})
    return SavedView.objects.create(
        product=product, owner=actor, name=name.strip()[:80], config=_clean_view_config(config), shared=shared
    )


@transaction.atomic
def saved_view_update(
    *, actor, view: SavedView, name=None, config=None, shared=None, version: int | None = None
) -> SavedView:
    if view.owner_id != actor.id:
        require_role(user=actor, workspace_id=view.product.workspace_id, role=Role.ADMIN)
    if shared:
        require_role(user=actor, workspace_id=view.product.workspace_id, role=Role.EDITOR)
    version_claim(instance=view, expected_version=version)
    if name is not None:
        if not name.strip():
            raise ValidationError({"name": "Name the view."})
        view.name = name.strip()[:80]
    if config is not None:
        view.config = _clean_view_config(config)
    if shared is not None:
        view.shared = shared
    view.save()
    return view


@transaction.atomic
def saved_view_delete(*, actor, view: SavedView) -> None:
    if view.owner_id != actor.id:
        require_role(user=actor, workspace_id=view.product.workspace_id, role=Role.ADMIN)
    view.delete()


# --- customer demand ------------------------------------------------------------------------
def demand_recompute(*, product, story_ids: list[int] | None = None) -> None:
    """Story.demand = what the registered demand providers give it (backlog/demand.py: discovery's
    highlighted insights, where all customer feedback lives: decision 1613), and Epic.demand the
    same for every epic of the product. Set-based: one read per provider, one bulk_update each;
    re-scores the touched stories and epics if the model reads demand."""
    weights = selectors.settings_of(product).segment_weights or {}
    qs = Story.objects.filter(product=product)
    if story_ids is not None:
        qs = qs.filter(id__in=story_ids)
    from .demand import provided_demand  # customer demand of higher apps (discovery), by registry

    demand = provided_demand(product=product, story_ids=story_ids, weights=weights)
    model = selectors.scoring_model_of(product)
    uses_demand = model.framework == "weighted" and any(c.get("source") == "demand" for c in model.criteria)
    stories = list(qs.only("id", "demand", "score", "score_inputs", "custom_values", "moscow", "kano"))
    changed = []
    for s in stories:
        new = demand.get(s.id, Decimal(0)).quantize(Decimal("0.01"))
        if new != s.demand:
            s.demand = new
            if uses_demand:
                s.score = score_of(s, model, strict=False)
            changed.append(s)
    Story.objects.bulk_update(changed, ["demand", "score"], batch_size=1000)
    _epic_demand_recompute(product=product, model=model if uses_demand else None)


def _epic_demand_recompute(*, product, model=None) -> None:
    """Epic.demand = what the registered epic demand providers give it (the figure of its "Who
    asked" panel); every epic of the product (they are few), re-scored when the model reads demand."""
    from .demand import epic_demand

    epics = list(Epic.objects.filter(product=product).only("id", "demand", "score", "score_inputs", "custom_values"))
    demand = epic_demand(product=product, epic_ids=[e.id for e in epics])
    changed = []
    for e in epics:
        new = demand.get(e.id, Decimal(0)).quantize(Decimal("0.01"))
        if new != e.demand:
            e.demand = new
            if model is not None:
                e.score = score_of(e, model, strict=False)
            changed.append(e)
    Epic.objects.bulk_update(changed, ["demand", "score"], batch_size=1000)


# --- work links: stories -> epics -> initiatives / releases -----------------------------------
def _epic_payload(epic: Epic) -> dict:
    return {"id": epic.id, "product_id": epic.product_id, "title": epic.title, "status": epic.status,
            "initiative_id": epic.initiative_id, "release_id": epic.release_id, "version": epic.version}


@transaction.atomic
def epics_link(*, actor, product, epic_ids, initiative=None, release=None, unlink_from=None) -> int:
    """Put epics of `product` into an initiative or a release (`initiative=` / `release=`), or
    take them out of one (`unlink_from=` an initiative or release: their link is cleared).

    Every epic is checked first: an id that is not an epic of the product (or, when taking out,
    not linked to `unlink_from`) refuses the whole request with a field error and nothing
    changes. Each changed epic gets its version bumped, an activity entry and `epic.updated`.
    Returns the number of epics changed."""
    from roadmaps.models import Initiative, Release

    _editor(actor, product)
    targets = [t for t in (initiative, release, unlink_from) if t is not None]
    if len(targets) != 1:
        raise ValueError("Give exactly one of initiative, release, unlink_from.")
    target = targets[0]
    if target.product_id != product.id:
        raise ValidationError({"epics": ["Choose an initiative or release of this product."]})
    field = "initiative_id" if isinstance(target, Initiative) else "release_id"
    assert isinstance(target, Initiative | Release)
    try:
        ids = sorted({int(i) for i in epic_ids})
    except (TypeError, ValueError):
        raise ValidationError({"epics": ["Send a list of epic ids."]})
    if not ids:
        raise ValidationError({"epics": ["Choose at least one epic."]})
    qs = Epic.objects.select_for_update().filter(id__in=ids, product=product)
    if unlink_from is not None:
        qs = qs.filter(**{field: target.id})
    epics = list(qs.order_by("id"))
    missing = set(ids) - {e.id for e in epics}
    if missing:
        where = f"linked to “{target}”" if unlink_from is not None else "of this product"
        raise ValidationError({"epics": [f"Not epics {where}: {ids_text(missing)}. Nothing was changed."]})
    new_value = None if unlink_from is not None else target.id
    changed = 0
    for epic in epics:
        if getattr(epic, field) == new_value:
            continue
        versioned_update(instance=epic, data={field: new_value}, fields=[field], expected_version=None)
        changed += 1
        activity_record(workspace_id=product.workspace_id, actor=actor, verb="updated epic", target=epic,
                        data={"fields": [field.removesuffix("_id")], field: new_value})
        webhook_emit(workspace_id=product.workspace_id, event="epic.updated", payload=_epic_payload(epic))
    return changed


@transaction.atomic
def initiative_take_stories(*, actor, initiative, story_ids, epic_id) -> int:
    """Bring stories into an initiative by putting them in one of its epics (a story belongs to
    an initiative through its epic, so the rollup stays story -> epic -> initiative). Goes
    through stories_bulk_update: versions, webhooks, activity. Returns the number changed."""
    product = initiative.product
    _editor(actor, product)
    try:
        epic_id = int(epic_id)
    except (TypeError, ValueError):
        raise ValidationError({"epic": ["Choose the epic of this initiative that the stories go into."]})
    if not Epic.objects.filter(id=epic_id, product=product, initiative=initiative).exists():
        raise ValidationError({"epic": ["Choose an epic of this initiative."]})
    return stories_bulk_update(actor=actor, product=product, ids=list(story_ids), epic_id=epic_id)


@transaction.atomic
def initiative_release_stories(*, actor, initiative, story_ids) -> int:
    """Take stories out of an initiative: they leave their epic (and so the initiative's
    progress) and stay in the backlog. Stories not in the initiative refuse the request."""
    product = initiative.product
    _editor(actor, product)
    try:
        ids = sorted({int(i) for i in story_ids})
    except (TypeError, ValueError):
        raise ValidationError({"stories": ["Send a list of story ids."]})
    found = set(Story.objects.filter(id__in=ids, product=product, epic__initiative=initiative)
                .values_list("id", flat=True))
    if not ids or found != set(ids):
        raise ValidationError({"stories": [
            f"Not stories of this initiative: {ids_text(set(ids) - found) or 'none chosen'}. Nothing was changed."]})
    return stories_bulk_update(actor=actor, product=product, ids=ids, epic_id=None)


def story_status_set(*, actor, story: Story, status: str, version: int | None = None, at=None) -> Story:
    """THE way to change one story's status (other apps, the demo): story_update keeps the
    version, done_at (by the workflow's done category), the status event that burn charts read,
    activity and the story.updated webhook together. (Selections: stories_bulk_update.)"""
    return story_update(actor=actor, story=story, data={"status": status}, version=version, at=at)


def compact_story_tallies() -> int:
    """Fold the StoryTally rows the triggers appended into one row per product, epic and status,
    and drop those that sum to nothing (decision 2040). One statement: a reader sees the rows
    before or after, never both; rows appended meanwhile by writers are not in this statement's
    snapshot and stay as they are; two compactions at once do not double a figure (the second
    skips the rows the first deleted). Returns how many rows were folded. PostgreSQL only (no
    tally on SQLite)."""
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH gone AS (DELETE FROM backlog_storytally RETURNING product_id, epic_id, status, stories, points), "
            "kept AS (INSERT INTO backlog_storytally (product_id, epic_id, status, stories, points) "
            "SELECT product_id, epic_id, status, SUM(stories), SUM(points) FROM gone "
            "GROUP BY product_id, epic_id, status HAVING SUM(stories) <> 0 OR SUM(points) <> 0 RETURNING 1) "
            "SELECT (SELECT COUNT(*) FROM gone), (SELECT COUNT(*) FROM kept)")
        folded, _kept = cursor.fetchone()
    return folded
