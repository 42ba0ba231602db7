"""The benchmark runs end to end at a tiny scale on the test database: shape only, no timings."""

import io
import json
import random
import types

import pytest
from django.db import transaction

from bench import cases
from bench.generate import bench_database_url
from bench.harness import (
    TINY,
    Budget,
    Context,
    Result,
    Timer,
    call_with_available,
    count_statements,
    measure_call,
)
from bench.run import COLUMNS, render_markdown, run_bench

EXPECTED_FIGURES = {
    "backlog first page API 50", "backlog first page API 200", "backlog first page HTML 50",
    "backlog first page HTML 200", "story reorder (move)", "re-score whole backlog", "roadmap timeline data (API)",
    "Now/Next/Later board (HTML)", "product dashboard (HTML)", "workspace dashboard (HTML)",
    "event ingestion (bulk API)", "daily adoption rollup", "progress report build",
    "inbox first page HTML", "inbox first page API", "duplicate suggestions (ideas)",
    "duplicate suggestions (100k insights)", "ideas by demand API", "ideas by demand HTML",
    "demand recompute after a revenue change",
}
RESULT_KEYS = {"name", "case", "kind", "status", "unit", "runs", "median_s", "p95_s", "rate_per_s", "queries", "bytes",
               "bare_sql_median_s", "ratio", "budget", "verdict", "failures", "note", "samples_s",
               "bare_sql_samples_s", "extra", "items_per_sample"}


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker, tmp_path_factory):
    """One tiny run shared by the shape tests, rolled back afterwards like a `db` test."""
    path = tmp_path_factory.mktemp("bench") / "results.json"
    out = io.StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        data = run_bench(scale="tiny", browser=False, results_path=path, out=out)
        transaction.set_rollback(True)
    return data, out.getvalue(), json.loads(path.read_text())


def test_tiny_run_writes_every_figure_without_errors(report):
    data, _, written = report
    names = {r["name"] for r in written["results"]}
    assert names >= EXPECTED_FIGURES
    assert [r for r in written["results"] if r["status"] == "error"] == []
    assert all(set(r) == RESULT_KEYS for r in written["results"])
    assert all(r["status"] in ("ok", "n/a") and r["kind"] in ("read", "write", "throughput")
               for r in written["results"])
    assert written == json.loads(json.dumps(data, default=str))


def test_measured_figures_carry_samples_queries_and_bare_sql(report):
    _, _, written = report
    ok = [r for r in written["results"] if r["status"] == "ok"]
    assert ok, "the core pages are always measured"
    for r in ok:
        assert r["runs"] == len(r["samples_s"]) > 0
        assert r["median_s"] is not None and r["p95_s"] >= r["median_s"]
        if r["kind"] == "read" and r["case"] != "browser":
            assert r["queries"] > 0 and r["bytes"] > 0
            assert r["bare_sql_samples_s"] and r["ratio"] is not None


def test_generation_reports_time_per_table(report):
    _, _, written = report
    tables = {g["table"]: g for g in written["generation"]}
    for table in ("pmhub_user", "pmhub_membership", "roadmaps_product", "roadmaps_initiative", "roadmaps_release",
                  "backlog_epic", "backlog_story", "metrics_kpi"):
        assert tables[table]["rows"] > 0 and tables[table]["seconds"] >= 0
    # tiny: 2 products, 8 + 2 initiatives, 60 + 3 stories
    assert tables["roadmaps_product"]["rows"] == 2
    assert tables["roadmaps_initiative"]["rows"] == 10
    assert tables["backlog_story"]["rows"] == 63


def test_printed_table_and_markdown_have_one_row_per_figure(report):
    _, printed, written = report
    assert "Django test client" in printed
    header = next(line for line in printed.splitlines() if line.startswith("figure"))
    assert all(c in header for c in COLUMNS)
    for r in written["results"]:
        assert r["name"] in printed
    markdown = render_markdown(written)
    assert markdown.count("\n| ") >= len(written["results"]) + 1
    assert "| figure | median | p95 |" in markdown


def test_a_case_whose_feature_is_missing_reports_na(db, monkeypatch, tmp_path):
    fake = types.ModuleType("bench.cases.fake")
    fake.NAME, fake.ORDER, fake.REQUIRES, fake.MEASURES = "fake", 99, ("nowhere.Thing",), ("fake figure",)
    fake.generate = fake.measure = lambda ctx: pytest.fail("a case with missing models must not run")
    monkeypatch.setattr(cases, "discover", lambda: [fake])
    data = run_bench(scale="tiny", browser=False, results_path=None, out=io.StringIO())
    (row,) = [r for r in data["results"] if r["name"] == "fake figure"]
    assert row["status"] == "n/a" and "feature not present" in row["note"]


def test_budget_verdicts():
    fast = Result(name="x", samples=[0.010, 0.012, 0.011], queries=5, bare_sql_samples=[0.005],
                  budget=Budget(median=0.060, queries=8, ratio=4))
    assert fast.verdict == "PASS"
    chatty = Result(name="x", samples=[0.010], queries=40, budget=Budget(queries=8))
    assert chatty.verdict == "FAIL"
    rate = Result(name="x", kind="throughput", samples=[0.1], items_per_sample=1000, budget=Budget(min_rate=20_000))
    assert rate.rate == pytest.approx(10_000) and rate.verdict == "FAIL"
    assert Result.na("x").verdict == "n/a"


def test_the_bench_database_is_never_the_users():
    assert bench_database_url("postgres://u@h:5432/pmhub") == "postgres://u@h:5432/pmhub_bench"
    assert bench_database_url("postgres://u:p@h/pmhub?sslmode=disable").endswith("/pmhub_bench?sslmode=disable")
    assert bench_database_url(None).endswith("bench/bench.sqlite3")
    assert bench_database_url("sqlite:///db.sqlite3").endswith("bench/bench.sqlite3")


def test_call_with_available_passes_only_named_arguments_and_runs_a_task_in_process():
    calls = []

    def rescore(*, product_id, job_id=None):
        calls.append((product_id, job_id))

    task = types.SimpleNamespace(run=rescore)  # a Celery task exposes its function as .run
    call_with_available(task, product_id=7, job_id=3, workspace_id=1)
    assert calls == [(7, 3)]
    with pytest.raises(TypeError, match="product_id"):
        call_with_available(rescore, workspace_id=1)


def test_update_statements_are_counted_per_table():
    captured = [{"sql": 'UPDATE "backlog_story" SET "rank" = \'a\' WHERE "backlog_story"."id" = 1'},
                {"sql": 'UPDATE "pmhub_apitoken" SET "last_used_at" = now() WHERE "id" = 2'},
                {"sql": 'SELECT "backlog_story"."id" FROM "backlog_story"'}]
    assert count_statements(captured, "UPDATE", "backlog_story") == 1


def test_measure_call_times_warmup_apart_from_runs(db):
    ctx = Context(rng=random.Random(1), scale=TINY, timer=Timer(), vendor="postgresql")
    seen = []
    result = measure_call(ctx, name="task", func=seen.append, before=lambda i: None, count_sql=True)
    warmup, runs = ctx.runs("heavy")
    assert seen == list(range(warmup + runs)) and len(result.samples) == runs and result.queries == 0
