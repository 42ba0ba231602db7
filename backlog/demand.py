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


def askers_provider_register(name: str, provider: Callable) -> None:
    """Register `provider(story) -> {"customers": int, "segments": [str], "feedback_count": int}`:
    who asked for a story (discovery: the companies of the insights highlighted for it)."""
    _ASKERS[name] = provider


def askers_of(story) -> dict:
    total = {"customers": 0, "segments": set(), "feedback_count": 0}
    for name in sorted(_ASKERS):
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
