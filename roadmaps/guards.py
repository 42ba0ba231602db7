"""Rules a higher app adds to the roadmap's status changes and to shipping a release, without
roadmaps importing it.

A guard is a callable `guard(*, initiative, old_status, new_status)` that raises Django's
ValidationError (with a `status` field error) to refuse the change. Apps register theirs in
their `AppConfig.ready()` (governance: an approved business impact statement before "planned",
docs/decisions/1504); `roadmaps.services.initiative_create` / `initiative_update`, the one write
path of an initiative's status, consult them. The error becomes a 400 with field errors in the
API and a form error on the page, like any other validation.
"""

from __future__ import annotations

from collections.abc import Callable

InitiativeStatusGuard = Callable[..., None]
_INITIATIVE_STATUS_GUARDS: list[InitiativeStatusGuard] = []


def initiative_status_guard_register(guard: InitiativeStatusGuard) -> None:
    if guard not in _INITIATIVE_STATUS_GUARDS:
        _INITIATIVE_STATUS_GUARDS.append(guard)


def initiative_status_guards() -> list[InitiativeStatusGuard]:
    return list(_INITIATIVE_STATUS_GUARDS)


def initiative_status_check(*, initiative, old_status: str | None, new_status: str) -> None:
    """Run every registered guard on a status change (`old_status` None: a new initiative)."""
    if new_status == old_status:
        return
    for guard in _INITIATIVE_STATUS_GUARDS:
        guard(initiative=initiative, old_status=old_status, new_status=new_status)


# --- shipping a release ---------------------------------------------------------------------------
# A guard `guard(*, release, actor, override_reason)` refuses a ship with ValidationError (field
# `override_reason`), or accepts it. A guard that accepts a ship *because of* an override reason
# records that override itself, inside the ship's transaction (a failed ship rolls it back).
ReleaseShipGuard = Callable[..., None]
_RELEASE_SHIP_GUARDS: list[ReleaseShipGuard] = []


def release_ship_guard_register(guard: ReleaseShipGuard) -> None:
    if guard not in _RELEASE_SHIP_GUARDS:
        _RELEASE_SHIP_GUARDS.append(guard)


def release_ship_check(*, release, actor, override_reason: str = "") -> None:
    """Run every registered ship guard (roadmaps.services.release_mark_released, the one ship path)."""
    for guard in _RELEASE_SHIP_GUARDS:
        guard(release=release, actor=actor, override_reason=(override_reason or "").strip())
