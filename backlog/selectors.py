"""Reads of the backlog app, scoped to the user's workspaces."""

import contextlib

from django.db import connection
from django.db.models import Count, F, QuerySet
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.shortcuts import get_object_or_404

from pmhub.access import workspace_ids_for
from pmhub.models import Membership
from pmhub.ordering import Orderings, nulls_last

from .models import (
    BacklogSettings,
    CustomField,
    Epic,
    Feedback,
    SavedView,
    ScoringModel,
    Story,
    default_workflow,
)

# The backlog's orderings, for the page (`?sort=`) and the API (`?ordering=`) alike. `?` marks a
# figure a story may lack: stories without it come last in both directions (pmhub/ordering.py).
STORY_ORDERINGS = Orderings({
    "rank": ("rank", "id"),
    "-score": ("-score?", "rank"),
    "score": ("score?", "rank"),
    "title": ("title", "id"),
    "points": ("points?", "rank"),
    "-points": ("-points?", "rank"),
    "-created_at": ("-created_at", "-id"),
    "status": ("status", "rank"),
}, default="rank")
GROUPS = {"epic": "epic__title", "status": "status", "assignee": "assignee__email"}


def settings_of(product) -> BacklogSettings:
    """The product's backlog settings (unsaved defaults if never edited: no write on read). No
    query when the page fetched them with the product (BacklogBase.product_related)."""
    try:
        return product.backlog_settings
    except BacklogSettings.DoesNotExist:
        return BacklogSettings(product=product, workflow=default_workflow(), segment_weights={})


def scoring_model_of(product) -> ScoringModel:
    found = ScoringModel.objects.filter(product=product).first()
    return found or ScoringModel(product=product, framework=ScoringModel.Framework.RICE, criteria=[])


def custom_fields_of(product, entity: str = "story") -> list[CustomField]:
    return list(CustomField.objects.filter(product=product, entity=entity))


def member_ids_of(workspace_id: int) -> set[int]:
    return set(Membership.objects.filter(workspace_id=workspace_id).values_list("user_id", flat=True))


def members_of(workspace_id: int):
    return [
        m.user
        for m in Membership.objects.filter(workspace_id=workspace_id).select_related("user").order_by("user__email")
    ]


def stories_for_user(*, user) -> QuerySet[Story]:
    return Story.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def epics_for_user(*, user) -> QuerySet[Epic]:
    return Epic.objects.filter(product__workspace_id__in=workspace_ids_for(user), product__deleted_at__isnull=True)


def story_for_user(*, user, story_id: int, product=None) -> Story:
    qs = stories_for_user(user=user).select_related("product__workspace", "epic", "assignee")
    if product is not None:
        qs = qs.filter(product=product)
    return get_object_or_404(qs, pk=story_id)


def _json_contains(qs, path: str, value):
    if connection.vendor == "postgresql":
        return qs.filter(**{f"{path}__contains": [value]})
    return qs.filter(**{f"{path}__icontains": f'"{value}"'})


def stories_filtered(qs: QuerySet, *, params, fields: list[CustomField]) -> QuerySet:
    """Apply the backlog's filters (from the URL or a saved view) to a story queryset."""
    get = params.get
    if get("q"):
        qs = qs.filter(title__icontains=get("q"))
    if get("status"):
        qs = qs.filter(status=get("status"))
    if get("epic"):
        qs = qs.filter(epic__isnull=True) if get("epic") == "none" else qs.filter(epic_id=get("epic"))
    if get("assignee"):
        qs = qs.filter(assignee__isnull=True) if get("assignee") == "none" else qs.filter(assignee_id=get("assignee"))
    if get("label"):
        qs = _json_contains(qs, "labels", get("label"))
    if get("moscow"):
        qs = qs.filter(moscow=get("moscow"))
    if get("kano"):
        qs = qs.filter(kano=get("kano"))
    if get("score_min"):
        with contextlib.suppress(ValueError):
            qs = qs.filter(score__gte=float(get("score_min")))
    if get("score_max"):
        with contextlib.suppress(ValueError):
            qs = qs.filter(score__lte=float(get("score_max")))
    if get("scored") in ("yes", "no"):
        qs = qs.filter(score__isnull=get("scored") == "no")
    for field in fields:
        value = get(f"cf_{field.key}")
        if not value:
            continue
        if field.type == "multi_select":
            qs = _json_contains(qs, f"custom_values__{field.key}", value)
        elif field.type in ("number", "user"):
            with contextlib.suppress(ValueError):
                qs = qs.filter(
                    **{f"custom_values__{field.key}": float(value) if field.type == "number" else int(value)}
                )
        elif field.type == "text":
            qs = qs.annotate(**{f"_cf_{field.key}": KeyTextTransform(field.key, "custom_values")}).filter(
                **{f"_cf_{field.key}__icontains": value}
            )
        else:
            qs = qs.filter(**{f"custom_values__{field.key}": value})
    return qs


def stories_sorted(qs: QuerySet, *, sort: str, group_by: str = "", fields: list[CustomField]) -> QuerySet:
    keys = {f.key for f in fields}
    order: list = []
    if group_by in GROUPS:
        order.append(nulls_last(F(GROUPS[group_by]), descending=False))
    elif group_by.startswith("cf_") and group_by[3:] in keys:
        order.append(nulls_last(KeyTransform(group_by[3:], "custom_values"), descending=False))
    name = sort.lstrip("-")
    if sort in STORY_ORDERINGS.choices:
        order += STORY_ORDERINGS.order_by(sort)
    elif name.startswith("cf_") and name[3:] in keys:
        order += [nulls_last(KeyTransform(name[3:], "custom_values"), descending=sort.startswith("-")), "rank"]
    else:
        order += STORY_ORDERINGS.order_by(STORY_ORDERINGS.default)
    return qs.order_by(*order)


def stories_for_backlog(*, product, params=None, fields=None) -> QuerySet[Story]:
    """The product's backlog: filtered, sorted (and grouped), with what a row shows in one query."""
    params = params or {}
    fields = fields if fields is not None else custom_fields_of(product)
    qs = Story.objects.filter(product=product).select_related("epic", "assignee")
    qs = stories_filtered(qs, params=params, fields=fields)
    return stories_sorted(qs, sort=params.get("sort") or "rank", group_by=params.get("group") or "", fields=fields)


def saved_views_for(*, user, product) -> QuerySet[SavedView]:
    from django.db.models import Q

    return SavedView.objects.filter(product=product).filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def feedback_for_product(*, product) -> QuerySet[Feedback]:
    return (
        Feedback.objects.filter(product=product)
        .annotate(story_count=Count("stories", distinct=True))
        .prefetch_related("stories", "epics")
    )


def demand_of(story) -> dict:
    """Who asked for a story: distinct customers, their segments, and the weighted demand."""
    rows = list(story.feedback.values_list("customer", "segment"))
    return {
        "customers": len({c for c, _ in rows}),
        "segments": sorted({s for _, s in rows if s}),
        "feedback_count": len(rows),
        "demand": story.demand,
    }
