"""Dependency rules (pure): conflicts and cycles."""

from collections import defaultdict, deque
from datetime import date


def is_conflict(blocker_end: date | None, blocked_start: date | None) -> bool:
    """A dependency conflicts when the blocker ends after the blocked initiative starts."""
    return blocker_end is not None and blocked_start is not None and blocker_end > blocked_start


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
