"""Rank keys: always strictly between neighbours, byte order, short at either end and after
rebalancing (docs/decisions/1220-rank-keys-with-integer-head.md)."""

import random

import pytest

from backlog import ranking


def test_key_between_open_ends():
    k = ranking.key_between(None, None)
    assert ranking.key_between(None, k) < k < ranking.key_between(k, None)


@pytest.mark.parametrize("a,b", [("i1", "i2"), ("ia", "ia1"), ("iz", None), (None, "i01"), ("i5", "i6"),
                                 ("hz", "i0"), (None, "i0"), ("jzz", "k000"), ("i0", "i0001"), ("gzz", "h0")])
def test_key_between_is_strictly_between(a, b):
    k = ranking.key_between(a, b)
    assert (a is None or a < k) and (b is None or k < b)
    ranking.validate(k)  # well formed: its fraction, if any, never ends in "0"


def test_repeated_inserts_at_one_spot_stay_ordered():
    low, high = "ia", "ib"
    for _ in range(100):
        k = ranking.key_between(low, high)
        assert low < k < high
        high = k
    assert len(high) < ranking.MAX_KEY_LENGTH


def test_random_moves_keep_a_total_order():
    rng = random.Random(7)
    keys = ranking.keys_between(None, None, 20)
    for _ in range(500):
        i = rng.randrange(len(keys) + 1)
        low = keys[i - 1] if i > 0 else None
        high = keys[i] if i < len(keys) else None
        keys.insert(i, ranking.key_between(low, high))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_thousands_of_appends_and_prepends_one_at_a_time_keep_keys_short():
    """The key arithmetic behind the service's "add at the bottom" and "add at the top" (the
    service test drives fewer through the database)."""
    keys = [ranking.key_between(None, None)]
    for _ in range(5000):
        keys.append(ranking.key_between(keys[-1], None))
        keys.insert(0, ranking.key_between(None, keys[0]))
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert max(len(k) for k in keys) <= 4


def test_keys_between_for_a_bulk_import_are_short_and_sorted():
    keys = ranking.keys_between("im", None, 10_000)
    assert keys == sorted(keys) and len(set(keys)) == 10_000
    assert all(k > "im" for k in keys)
    assert max(len(k) for k in keys) <= 4


def test_even_keys_rebalance():
    keys = ranking.even_keys(1000)
    assert keys == sorted(keys) and len(set(keys)) == 1000
    assert max(len(k) for k in keys) <= 3
    assert max(len(k) for k in ranking.even_keys(100_000)) <= 5


def test_invalid_keys_are_refused():
    with pytest.raises(ValueError):
        ranking.key_between("ib", "ia")
    for bad in ("ia0", "m", "", "i", "I5", "i~"):  # fraction ending in 0, too short for its head, ...
        with pytest.raises(ValueError):
            ranking.key_between(bad, None)


def test_integer_head_counts_up_and_down_across_lengths():
    assert ranking.key_between("i9", None) == "ia"
    assert ranking.key_between("iz", None) == "j00"
    assert ranking.key_between(None, "i0") == "hz"
    assert ranking.key_between(None, "h0") == "gzz"
    assert ranking.key_between(None, "i5k") == "i5"  # the bare integer sorts before its fractions
    assert ranking.key_between("i5", "i6") == "i5i"


# The bound for 100,000 inserts at one end (one character more per 36x inserts: log36(n) + 1).
END_BOUND = 5


def test_one_hundred_thousand_appends_stay_short():
    key, longest = None, 0
    for _ in range(100_000):
        new = ranking.key_between(key, None)
        assert key is None or new > key
        key, longest = new, max(longest, len(new))
    assert longest <= END_BOUND


def test_one_hundred_thousand_prepends_stay_short():
    key, longest = None, 0
    for _ in range(100_000):
        new = ranking.key_between(None, key)
        assert key is None or new < key
        key, longest = new, max(longest, len(new))
    assert longest <= END_BOUND


def test_appends_prepends_and_random_moves_keep_order_and_short_keys():
    """200,000 stories added one at a time at either end, then 20,000 random moves."""
    rng = random.Random(18)
    head, tail, keys = [], [], None
    for _ in range(100_000):
        tail.append(ranking.key_between(tail[-1] if tail else "i0", None))
        head.append(ranking.key_between(None, head[-1] if head else "i0"))
    keys = head[::-1] + ["i0"] + tail
    for _ in range(20_000):
        moved = keys.pop(rng.randrange(len(keys)))
        i = rng.randrange(len(keys) + 1)
        new = ranking.key_between(keys[i - 1] if i else None, keys[i] if i < len(keys) else None)
        assert new != moved
        keys.insert(i, new)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert max(len(k) for k in keys) <= 8


def test_bottom_key_sorts_after_service_keys_and_appends_continue_after_it():
    late = ranking.bottom_key()
    ranking.validate(late)
    assert late > ranking.keys_between(None, None, 100_000)[-1]
    assert ranking.key_between(late, None) > late
