"""Rank keys: always strictly between neighbours, byte order, short after rebalancing."""

import random

import pytest

from backlog import ranking


def test_key_between_open_ends():
    k = ranking.key_between(None, None)
    assert ranking.key_between(None, k) < k < ranking.key_between(k, None)


@pytest.mark.parametrize("a,b", [("1", "2"), ("a", "a1"), ("zz", None), (None, "01"), ("i", "j"), ("0001", "0002")])
def test_key_between_is_strictly_between(a, b):
    k = ranking.key_between(a, b)
    assert (a is None or a < k) and (b is None or k < b)
    assert not k.endswith("0")


def test_repeated_inserts_at_one_spot_stay_ordered():
    low, high = "a", "b"
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


def test_keys_between_for_a_bulk_import_are_short_and_sorted():
    keys = ranking.keys_between("m", None, 10_000)
    assert keys == sorted(keys) and len(set(keys)) == 10_000
    assert all(k > "m" for k in keys)
    assert max(len(k) for k in keys) <= 5


def test_even_keys_rebalance():
    keys = ranking.even_keys(1000)
    assert keys == sorted(keys) and len(set(keys)) == 1000
    assert max(len(k) for k in keys) <= 3


def test_invalid_keys_are_refused():
    with pytest.raises(ValueError):
        ranking.key_between("b", "a")
    with pytest.raises(ValueError):
        ranking.key_between("a0", None)
