"""Providers of customer demand and of who asked (registries a higher app fills).

A higher app (discovery) registers `provider(product, story_ids, weights) -> {story_id: Decimal}`
from its AppConfig.ready(); backlog.services.demand_recompute sums every provider's figures into
Story.demand. Customer feedback lives in discovery's insights inbox (decision 1613), so the backlog
has no demand of its own and never imports the app that knows the customers.
"""

from collections.abc import Callable
from decimal import Decimal

_PROVIDERS: dict[str, Callable] = {}


def demand_provider_register(name: str, provider: Callable) -> None:
    """Register (or replace) a named provider of story demand."""
    _PROVIDERS[name] = provider


def demand_providers() -> list[Callable]:
    return [_PROVIDERS[name] for name in sorted(_PROVIDERS)]


def provided_demand(*, product, story_ids: list[int] | None, weights: dict) -> dict[int, Decimal]:
    total: dict[int, Decimal] = {}
    for provider in demand_providers():
        for story_id, value in provider(product=product, story_ids=story_ids, weights=weights).items():
            total[story_id] = total.get(story_id, Decimal(0)) + Decimal(value)
    return total


# --- who asked, and epics' demand (the same registry idea) -------------------------------------------
_ASKERS: dict[str, Callable] = {}
_EPIC_PROVIDERS: dict[str, Callable] = {}


_ASKER_ROWS: dict[str, tuple[Callable, Callable]] = {}


def askers_provider_register(name: str, provider: Callable, *, rows: Callable | None = None,
                             from_rows: Callable | None = None) -> None:
    """Register `provider(story) -> {"customers": int, "segments": [str], "feedback_count": int}`:
    who asked for a story (discovery: the companies of the insights highlighted for it).
    Optionally `rows(story_ref)`, a queryset of one JSON value per row for the story `story_ref`
    (an OuterRef), and `from_rows(values)`, the same answer from those values: a reader of one
    story then gets them in the story's own query (`askers_annotations`, one round trip)."""
    _ASKERS[name] = provider
    if rows is not None and from_rows is not None:
        _ASKER_ROWS[name] = (rows, from_rows)
    else:
        _ASKER_ROWS.pop(name, None)


def askers_key() -> tuple:
    """What `askers_annotations` depends on: the registered providers and their row functions."""
    return tuple(sorted((name, id(_ASKERS[name]), id(_ASKER_ROWS.get(name))) for name in _ASKERS))


def _alias(name: str) -> str:
    return "_askers_" + name.replace(".", "_")


def askers_annotations(story_ref) -> dict | None:
    """{alias: expression} to annotate a story queryset with what `askers_of` needs (PostgreSQL
    arrays), or None when a provider cannot be read that way."""
    from django.contrib.postgres.expressions import ArraySubquery

    if set(_ASKER_ROWS) != set(_ASKERS):
        return None
    return {_alias(name): ArraySubquery(_ASKER_ROWS[name][0](story_ref)) for name in _ASKERS}


def askers_of(story) -> dict:
    total = {"customers": 0, "segments": set(), "feedback_count": 0}
    if getattr(story, "_askers_none", False):  # a story just created (services.story_create)
        return total | {"segments": []}
    for name in sorted(_ASKERS):
        alias = _alias(name)
        if name in _ASKER_ROWS and hasattr(story, alias):
            found = _ASKER_ROWS[name][1](getattr(story, alias))
        else:
            found = _ASKERS[name](story)
        total["customers"] += found.get("customers", 0)
        total["segments"] |= set(found.get("segments", ()))
        total["feedback_count"] += found.get("feedback_count", 0)
    return total | {"segments": sorted(total["segments"])}


def epic_demand_provider_register(name: str, provider: Callable) -> None:
    """Register `provider(product, epic_ids) -> {epic_id: Decimal}`: an epic's customer demand
    (discovery: the highlights for the epic and its stories, as its "Who asked" panel shows)."""
    _EPIC_PROVIDERS[name] = provider


def epic_demand(*, product, epic_ids: list[int]) -> dict[int, Decimal]:
    total: dict[int, Decimal] = {}
    for name in sorted(_EPIC_PROVIDERS):
        for epic_id, value in _EPIC_PROVIDERS[name](product=product, epic_ids=epic_ids).items():
            total[epic_id] = total.get(epic_id, Decimal(0)) + Decimal(value)
    return total
