"""bench/load.py's bookkeeping (no server): warm-up excluded from the figures but not its errors,
the summary and the Markdown table, and the web configuration it reports (gunicorn.conf.py's)."""

import os

from bench.load import ENDPOINTS, GROOMER, LEADER, Stats, configured, render, summarize


def test_warmup_requests_are_not_counted_but_their_errors_are():
    stats = Stats(count_after=100.0)
    stats.add("backlog page", started=99.0, seconds=5.0, error=None)
    stats.add("backlog page", started=99.5, seconds=0.1, error="500 GET /w/x/")
    stats.add("backlog page", started=101.0, seconds=0.2, error=None)
    stats.add("move", started=102.0, seconds=0.1, error=None)
    summary = summarize(stats, seconds=10.0)
    rows = {r["endpoint"]: r for r in summary["endpoints"]}
    assert rows["backlog page"]["requests"] == 1 and rows["backlog page"]["errors"] == 1
    assert summary["total"]["requests"] == 2 and summary["total"]["errors"] == 1
    assert summary["total"]["rps"] == 0.2 and summary["total"]["p50_ms"] == 100.0
    assert summary["error_samples"] == ["500 GET /w/x/"]


def test_the_table_shows_the_figures_and_the_saturation_ratio():
    stats = Stats()
    for i in range(100):
        stats.add("stories API (list 50)", started=1.0, seconds=(i + 1) / 1000, error=None)
    meta = {
        "users": 200,
        "duration": 60.0,
        "warmup": 15.0,
        "think": [1.0, 3.0],
        "scale": "small",
        "worker_class": "gthread",
        "workers": 3,
        "threads": 4,
        "cpus": "0,1",
        "machine": "test, 2 CPUs",
        "started_at": "2026-12-05 12:00 UTC",
        "load_before": "0.1 0.1 0.1",
        "load_after": "0.2 0.2 0.2",
    }
    sat = {
        "mix": [{"clients": 2, "rps": 50.0}],
        "floor": [{"clients": 2, "rps": 500.0}],
        "mix_best": 50.0,
        "floor_best": 500.0,
        "ratio": 0.1,
    }
    table = render(
        {
            "meta": meta,
            "steady": summarize(stats, 60.0),
            "live": {"opened": 200, "events": 1234, "errors": []},
            "saturation": sat,
        }
    )
    assert "| 200 | 1.7 | 50 ms | 95 ms | 99 ms | 0 | 200 / 1,234 |" in table
    assert "| stories API (list 50) | 100 % | 100 | 50 | 95 | 99 | 0 |" in table
    assert "50 / 500 req/s = **0.10**" in table
    assert "gthread 3 workers x 4 threads" in table and "CPUs 0,1" in table


def test_every_request_of_the_mix_is_reported():
    assert set(GROOMER) | set(LEADER) == set(ENDPOINTS)


def test_the_reported_web_configuration_is_gunicorn_conf_py():
    cpus = len(os.sched_getaffinity(0))
    assert configured() == {"worker_class": "gthread", "workers": cpus + 1, "threads": 4}
    assert configured("sync") == {"worker_class": "sync", "workers": 2 * cpus + 1, "threads": 1}
    assert configured("gthread", 2, 8) == {"worker_class": "gthread", "workers": 2, "threads": 8}


def test_the_client_counts_the_hubs_events_and_nothing_else():
    """The load client tells events by their opening instead of decoding each; it must agree with
    how pmhub.consumers.Hub encodes them."""
    import json as json_module

    from bench.load import is_event
    from pmhub.live import for_client

    event = {"type": "story.moved", "id": 3, "version": 2, "product": 1, "workspace": 1, "topics": [], "seq": 9, "tab": ""}
    assert is_event(json_module.dumps({"type": "event", "event": for_client(event)}))  # as Hub.dispatch sends it
    assert is_event(json_module.dumps({"type": "event", "event": for_client(event)}).encode())
    assert is_event('{"event": {}, "type": "event"}')  # another key order is decoded
    for other in ({"type": "subscribed", "workspace": 1, "seq": 9, "user": 2}, {"type": "pong"},
                  {"type": "presence", "topic": "story:3", "people": []}, {"type": "reload", "workspace": 1}):
        assert not is_event(json_module.dumps(other))
