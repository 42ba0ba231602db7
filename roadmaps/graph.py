"""Dependency rules (pure): conflicts and cycles."""

from collections import defaultdict, deque
from datetime import date


def is_conflict(blocker_end: date | None, blocked_start: date | None) -> bool:
    """A dependency conflicts when the blocker ends after the blocked initiative starts."""
    return blocker_end is not None and blocked_start is not None and blocker_end > blocked_start


DONE, ON_TRACK, AT_RISK, LATE = "done", "on_track", "at_risk", "late"
SCHEDULE_STATES = (ON_TRACK, AT_RISK, LATE, DONE)


def schedule_state(*, status: str, end_date: date | None, conflicted: bool, today: date) -> str | None:
    """THE on-track / at-risk / late state of an initiative (docs/figures.md):

    - done: its status is done;
    - late: not done and its end date is before today (the workspace's, pmhub.clock);
    - at risk: not done, not late, and in a dependency conflict (a blocker of it ends after it
      starts, or it ends after an initiative it blocks starts: `is_conflict`, either end);
    - on track: every other initiative that is not cancelled.
    A cancelled initiative has no state (None) and is counted nowhere."""
    if status == "cancelled":
        return None
    if status == "done":
        return DONE
    if end_date is not None and end_date < today:
        return LATE
    return AT_RISK if conflicted else ON_TRACK


def schedule_counts(states) -> dict[str, int]:
    """{"on_track": n, "at_risk": n, "late": n, "done": n} of the given states (None skipped)."""
    counts = dict.fromkeys(SCHEDULE_STATES, 0)
    for state in states:
        if state is not None:
            counts[state] += 1
    return counts


def creates_cycle(edges, blocker_id: int, blocked_id: int) -> bool:
    """Would adding blocker -> blocked close a cycle? True when blocker is reachable from blocked.

    `edges` are existing (blocker_id, blocked_id) pairs. Breadth-first, so deep chains are fine.
    """
    if blocker_id == blocked_id:
        return True
    out = defaultdict(list)
    for a, b in edges:
        out[a].append(b)
    seen, queue = {blocked_id}, deque([blocked_id])
    while queue:
        node = queue.popleft()
        for nxt in out[node]:
            if nxt == blocker_id:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False
