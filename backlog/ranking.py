"""Rank keys: fractional indexing with a variable-length integer head (pure functions, no Django).

A key is `<head><integer digits><fraction>` in the digits 0-9a-z, compared byte by byte:

- the head character says how many integer digits follow and their sign: "i".."z" are
  non-negative integers of 1..18 digits, "h".."0" negative ones of 1..18 digits (a lower head is
  a longer, more negative integer), so byte order of whole keys is numeric order of integers;
- the fraction is a base-36 fraction (possibly empty) that never ends in "0", so there is always
  room between any two keys.

An insert at either end counts the integer up or down ("i0" -> "i1" ... "iz" -> "j00"), so keys
grow by one character each time the count multiplies by 36: 100,000 appends give 5-character
keys. An insert between two neighbours takes the midpoint of their fractions (Greenspan) and
grows by about one character per five inserts at the very same spot; `needs_rebalance` and
`must_rebalance` say when the services rewrite the product's keys evenly
(docs/decisions/0400-ranking.md and 1220-rank-keys-with-integer-head.md).
"""

import threading

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
MAX_KEY_LENGTH = 64  # the column
# A key this long schedules a rebalance in the worker; one longer than HARD_LENGTH is never
# written: the product is rebalanced inline first. Only inserts at one spot in the middle get
# there (about 100 at the same place); inserts at the ends never do.
REBALANCE_LENGTH = 24
HARD_LENGTH = 48
ZERO = "i0"  # the key of an empty backlog's first story
_POSITIVE_HEADS = DIGITS[DIGITS.index("i"):]  # "i".."z": 1..18 digits
_NEGATIVE_HEADS = DIGITS[: DIGITS.index("i")]  # "h".."0": 1..18 digits


def _digit(c: str) -> int:
    return DIGITS.index(c)


def _integer_length(head: str) -> int:
    if head in _POSITIVE_HEADS:
        return _digit(head) - _digit("i") + 2
    if head in _NEGATIVE_HEADS:
        return _digit("h") - _digit(head) + 2
    raise ValueError(f"Invalid rank key head: {head!r}")


def _split(key: str) -> tuple[str, str]:
    """(integer part with its head, fraction)."""
    n = _integer_length(key[0])
    if len(key) < n:
        raise ValueError(f"Invalid rank key: {key!r}")
    return key[:n], key[n:]


def validate(key: str | None) -> None:
    """Raise ValueError unless `key` is a well-formed key (None, an open end, is allowed)."""
    if key is None:
        return
    if not key or any(c not in DIGITS for c in key):
        raise ValueError(f"Invalid rank key: {key!r}")
    _, fraction = _split(key)
    if fraction.endswith("0"):
        raise ValueError(f"Invalid rank key: {key!r}")


def _increment(integer: str) -> str | None:
    """The next integer key ("i9" -> "ia", "iz" -> "j00"); None past the largest."""
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        if digits[i] != "z":
            digits[i] = DIGITS[_digit(digits[i]) + 1]
            return head + "".join(digits)
        digits[i] = "0"
    if head == "z":
        return None
    new_head = DIGITS[_digit(head) + 1]
    return new_head + "0" * (_integer_length(new_head) - 1)


def _decrement(integer: str) -> str | None:
    """The previous integer key ("ia" -> "i9", "i0" -> "hz", "h0" -> "gzz"); None past the smallest."""
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        if digits[i] != "0":
            digits[i] = DIGITS[_digit(digits[i]) - 1]
            return head + "".join(digits)
        digits[i] = "z"
    if head == "0":
        return None
    new_head = DIGITS[_digit(head) - 1]
    return new_head + "z" * (_integer_length(new_head) - 1)


def _midpoint(a: str, b: str | None) -> str:
    """Greenspan's midpoint of fractions a < b (a may be "", b None meaning 1); never ends in "0"."""
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
    """A key k with a < k < b (byte order); None is an open end.

    At an open end the integer counts up (after a) or down (before b), so inserts at either end
    grow keys logarithmically; between two keys of the same integer the fractions' midpoint."""
    validate(a)
    validate(b)
    if a is not None and b is not None and a >= b:
        raise ValueError(f"{a!r} is not before {b!r}")
    if a is None and b is None:
        return ZERO
    if a is None:
        ib, fb = _split(b)
        if fb:
            return ib  # the bare integer sorts before every key with that integer and a fraction
        previous = _decrement(ib)
        if previous is None:
            raise ValueError("No key before the smallest integer: rebalance")
        return previous
    if b is None:
        ia, fa = _split(a)
        following = _increment(ia)
        return following if following is not None else ia + _midpoint(fa, None)
    ia, fa = _split(a)
    ib, fb = _split(b)
    if ia == ib:
        return ia + _midpoint(fa, fb)
    following = _increment(ia)
    if following is not None and following < b:
        return following
    return ia + _midpoint(fa, None)


def keys_between(a: str | None, b: str | None, n: int) -> list[str]:
    """n increasing keys between a and b: counted integers at an open end (a bulk append of
    10,000 rows gets 4-character keys), bisection between two keys."""
    if n <= 0:
        return []
    if b is None:
        keys, last = [], a
        for _ in range(n):
            last = key_between(last, None)
            keys.append(last)
        return keys
    if a is None:
        keys, first = [], b
        for _ in range(n):
            first = key_between(None, first)
            keys.append(first)
        return keys[::-1]
    if n == 1:
        return [key_between(a, b)]
    mid = key_between(a, b)
    left = n // 2
    return keys_between(a, mid, left) + [mid] + keys_between(mid, b, n - left - 1)


def _integer_key(value: int, width: int) -> str:
    """The non-negative integer `value` as a key with `width` digits."""
    chars = []
    for _ in range(width):
        value, r = divmod(value, BASE)
        chars.append(DIGITS[r])
    return _POSITIVE_HEADS[width - 1] + "".join(reversed(chars))


def even_keys(n: int) -> list[str]:
    """n evenly spaced integer keys of equal length, 1 + ceil(log36(n + 1)) characters (a
    rebalance of a product's backlog: 1,000 stories get 3-character keys, 100,000 get 5)."""
    width = 1
    while BASE**width < n + 1:
        width += 1
    step = BASE**width // (n + 1)
    return [_integer_key(step * i, width) for i in range(1, n + 1)]


def bottom_key() -> str:
    """A unique key after every key the services hand out, for a story created without a position
    (a fixture, an admin, another app writing a row directly): the integer of the current time in
    nanoseconds plus a random digit. Time-ordered, so such stories keep their creation order at
    the bottom; an append through the services after one counts up from it."""
    import random
    import time

    global _last_bottom_ns
    # Strictly increasing within a process even when the clock stands still (a frozen clock in a
    # test, two calls within the clock's resolution): equal prefixes left only the random digit
    # to keep two such stories apart.
    with _bottom_lock:
        _last_bottom_ns = max(time.time_ns(), _last_bottom_ns + 1)
        n = _last_bottom_ns
    return _integer_key(n, 13) + DIGITS[random.randint(1, BASE - 1)]  # noqa: S311


_bottom_lock = threading.Lock()
_last_bottom_ns = 0


def needs_rebalance(key: str) -> bool:
    """Long enough that the worker should rewrite the product's keys evenly."""
    return len(key) >= REBALANCE_LENGTH


def must_rebalance(key: str) -> bool:
    """Too long to write: rebalance inline, then compute the key again."""
    return len(key) > HARD_LENGTH
