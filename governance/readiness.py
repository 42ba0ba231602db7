"""Launch readiness, pure (no Django). Definition (docs/figures.md): the share of a release's
**required** launch items that are done, in whole percent rounded down (so 100% means every
required item is done); `ready` when no required item is open. A checklist without required
items has no percentage (None) and is ready."""

from __future__ import annotations


def readiness(*, required_total: int, required_done: int, total: int = 0, done: int = 0) -> dict:
    open_required = required_total - required_done
    percent = (100 * required_done) // required_total if required_total else None
    return {"required_total": required_total, "required_done": required_done, "required_open": open_required,
            "total": total, "done": done, "percent": percent, "ready": open_required == 0}
