"""Providers of customer demand beyond the backlog's own feedback (a registry a higher app fills).

A higher app (discovery) registers `provider(product, story_ids, weights) -> {story_id: Decimal}`
from its AppConfig.ready(); backlog.services.demand_recompute adds every provider's figures to the
feedback demand. So the backlog never imports the app that knows the customers.
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
