"""Lexicographic rank keys (pure functions, no Django).

A key is a base-36 fraction written with the digits 0-9a-z and read as 0.<key>; it never ends
with "0", so there is always room before and after any key. `key_between(a, b)` returns a key
strictly between a and b (a=None means the start, b=None the end), so moving a story writes
only that story's key. Keys grow by about one character per five inserts at the same spot;
`needs_rebalance` says when to rewrite the product's keys evenly (see docs/decisions/0400-ranking.md).
"""

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
MAX_KEY_LENGTH = 64
REBALANCE_LENGTH = 24


def bottom_key() -> str:
    """A unique key after every key the services hand out, for a story created without a position
    (a fixture, an admin, another app writing a row directly): "z" + base-36 nanoseconds + a
    random non-zero digit. Time-ordered, so such stories keep their creation order at the bottom."""
    import random
    import time

    n, digits = time.time_ns(), []
    while n:
        n, r = divmod(n, BASE)
        digits.append(DIGITS[r])
    return "z" + "".join(reversed(digits)) + DIGITS[random.randint(1, BASE - 1)]  # noqa: S311


def _digit(c: str) -> int:
    return DIGITS.index(c)


def _validate(key: str | None) -> None:
    if key is None:
        return
    if key == "" or key.endswith("0") or any(c not in DIGITS for c in key):
        raise ValueError(f"Invalid rank key: {key!r}")


def _midpoint(a: str, b: str | None) -> str:
    """Greenspan's midpoint of fractions a < b (a may be "", b None meaning 1)."""
    if b is not None:
        n = 0
        while n < len(b) and (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    da = _digit(a[0]) if a else 0
    db = _digit(b[0]) if b is not None else BASE
    if db - da > 1:
        return DIGITS[(da + db) // 2]
    if b is not None and len(b) > 1:
        return b[0]
    return DIGITS[da] + _midpoint(a[1:], None)


def key_between(a: str | None, b: str | None) -> str:
    """A key k with a < k < b (byte order). None: open end."""
    _validate(a)
    _validate(b)
    if a is not None and b is not None and a >= b:
        raise ValueError(f"{a!r} is not before {b!r}")
    return _midpoint(a or "", b)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """n increasing keys between a and b, spread by bisection (short keys for bulk inserts)."""
    if n <= 0:
        return []
    if n == 1:
        return [key_between(a, b)]
    mid = key_between(a, b)
    left = n // 2
    return keys_between(a, mid, left) + [mid] + keys_between(mid, b, n - left - 1)


def even_keys(n: int) -> list[str]:
    """n evenly spaced keys of equal length (used to rebalance a product's backlog)."""
    width = 1
    while BASE ** width <= n + 1:
        width += 1
    step = BASE ** width // (n + 1)
    keys = []
    for i in range(1, n + 1):
        value, chars = step * i, []
        for _ in range(width):
            value, r = divmod(value, BASE)
            chars.append(DIGITS[r])
        keys.append("".join(reversed(chars)).rstrip("0"))
    return keys


def needs_rebalance(key: str) -> bool:
    return len(key) >= REBALANCE_LENGTH
