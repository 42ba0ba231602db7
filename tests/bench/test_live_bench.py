"""bench/live.py's own arithmetic and safety: its database is never the user's, its percentiles are
the nearest-rank ones docs/live.md reports. (The run itself needs a server and 1,000 sockets:
`make bench-live`.)"""

from bench.live import live_database_url, percentile


def test_the_live_bench_recreates_only_a_database_of_its_own():
    assert live_database_url("postgres://u@h:5432/pmhub") == "postgres://u@h:5432/pmhub_live_bench"
    assert live_database_url("postgres://u@h:5432/pmhub?sslmode=disable").endswith("/pmhub_live_bench?sslmode=disable")
    assert live_database_url(None).endswith("bench/live.sqlite3")
    assert live_database_url("sqlite:///db.sqlite3").endswith("bench/live.sqlite3")


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
