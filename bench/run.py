"""`make bench [SCALE=small]`: generate the seeded dataset into the bench's own database, measure,
print one table and write bench/results.json.

    python -m bench.run --scale full|small|tiny [--seed N] [--no-browser] [--only backlog,metrics]
    python -m bench.run --markdown          # the last results as a Markdown table
    python -m bench.run --update-docs       # rewrite the results section of docs/performance.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

from bench.harness import SCALES, SECTION_HEADER, Context, Result, Timer, format_seconds

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
DOCS = BENCH_DIR.parent / "docs" / "performance.md"
DEFAULT_SEED = 20261126
TIME_BUDGET = 15 * 60  # seconds: the whole full-scale run, generation included
MARK_START, MARK_END = "<!-- bench:results:start -->", "<!-- bench:results:end -->"
METHOD = ("Requests go through the Django test client in-process (no network): pages with the bench "
          "user signed in (force_login), the API with an `Authorization: Token` header. Server time = "
          "client call to response (middleware, views, templates, serializers); queries counted with "
          "CaptureQueriesContext; bytes = len(response.content). Bare SQL = a raw cursor query "
          "fetching the same rows; ratio = median request / median bare SQL. Tasks run in-process.")


# --- Machine ------------------------------------------------------------------------------


def machine_info() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(), "cores": os.cpu_count()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return info


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def database_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    return {"vendor": connection.vendor, "version": version, "name": str(connection.settings_dict["NAME"])}


# --- The run ------------------------------------------------------------------------------


def run_bench(*, scale: str = "full", seed: int = DEFAULT_SEED, browser: bool = True, only: list[str] | None = None,
              results_path: Path | None = RESULTS, database_url: str = "", migrate_seconds: float | None = None,
              out=sys.stdout, timer: Timer | None = None) -> dict:
    """Generate and measure on the database Django is connected to (already created and migrated).

    Returns the report (as written to results_path). The smoke test calls this on the test database.
    """
    from bench import cases as cases_pkg
    from bench.generate import analyze, configure_eager, generate_core, vendor

    configure_eager()
    started = time.perf_counter()
    load_start = _load()
    ctx = Context(rng=random.Random(seed), scale=SCALES[scale], timer=timer or Timer(), vendor=vendor(), seed=seed,
                  database_url=database_url)
    modules = cases_pkg.discover()
    selected = [m for m in modules if not only or m.NAME in only or m.NAME == "core"]

    print(f"PMHub bench: scale={scale} seed={seed} database={database_info()['name']} ({ctx.vendor})", file=out)
    print("Generating ...", file=out)
    print(SECTION_HEADER, file=out, flush=True)
    ctx.timer.echo = out
    generate_core(ctx)
    skipped: dict[str, list[str]] = {}
    for module in selected:
        missing = cases_pkg.missing_requirements(module)
        if missing:
            skipped[module.NAME] = missing
            continue
        module.generate(ctx)
    analyze(ctx)
    generation_seconds = time.perf_counter() - started
    ctx.timer.echo = None
    print(f"{'total':<28} {sum(s.rows for s in ctx.timer.sections):>10,} {ctx.timer.total:>9.2f}", file=out)

    print("Measuring ...", file=out, flush=True)
    results: list[Result] = []
    pages: list[tuple[str, str]] = []
    for module in selected:
        if module.NAME in skipped:
            results.extend(Result.na(name, f"feature not present (no {', '.join(skipped[module.NAME])})",
                                     case=module.NAME) for name in module.MEASURES)
            continue
        for result in module.measure(ctx):
            result.case = result.case or module.NAME
            results.append(result)
        if hasattr(module, "pages"):
            pages.extend(module.pages(ctx))
    if browser:
        from bench.browser import measure_lcp

        try:
            results.extend(measure_lcp(ctx, pages))
        except Exception as exc:  # noqa: BLE001 - the browser pass is optional
            results.append(Result.error("LCP", exc, case="browser"))
    else:
        results.append(Result.na("LCP (pages)", "skipped: --no-browser", case="browser"))

    report = {
        "meta": {
            "scale": scale, "seed": seed, "machine": machine_info(), "database": database_info(),
            "method": METHOD, "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "generation_seconds": round(generation_seconds, 2), "migrate_seconds": migrate_seconds,
            "total_seconds": round(time.perf_counter() - started + (migrate_seconds or 0), 2),
            "budgets_apply": scale == "full" and ctx.vendor == "postgresql",
            "load_start": load_start, "load_end": _load(),
            "notes": ctx.notes,
        },
        "generation": [{"table": s.name, "rows": s.rows, "method": s.method, "seconds": round(s.seconds, 3)}
                       for s in ctx.timer.sections],
        "results": [r.as_dict() for r in results],
    }
    print(render_table(report), file=out)
    if results_path:
        Path(results_path).write_text(json.dumps(report, indent=2, default=str))
        print(f"\nWrote {results_path}", file=out)
    return report


# --- Output -------------------------------------------------------------------------------

COLUMNS = ("figure", "median", "p95", "queries", "bytes", "bare SQL", "ratio", "budget", "verdict", "note")


def _row(r: dict) -> list[str]:
    if r["status"] != "ok":
        return [r["name"], "", "", "", "", "", "", r.get("budget") or "",
                "n/a" if r["status"] == "n/a" else "ERROR", r["note"]]
    if r["kind"] == "throughput":
        # Throughput: items/s of the median batch; the p95 column is the rate of the slow (p95) batch.
        med = f"{r['rate_per_s']:,.0f}/s" if r["rate_per_s"] else ""
        p95 = f"{r['items_per_sample'] / r['p95_s']:,.0f}/s" if r["p95_s"] else ""
    else:
        unit = "s" if r["unit"] == "s" else "ms"
        med, p95 = format_seconds(r["median_s"], unit), format_seconds(r["p95_s"], unit)
    bare = format_seconds(r["bare_sql_median_s"], "ms") if r["bare_sql_median_s"] else ""
    ratio = f"{r['ratio']:.1f}x" if r["ratio"] else ""
    return [r["name"], med, p95, "" if r["queries"] is None else str(r["queries"]),
            "" if r["bytes"] is None else f"{r['bytes']:,}", bare, ratio, r.get("budget") or "", r["verdict"], ""]


def render_table(report: dict) -> str:
    rows = [list(COLUMNS)] + [_row(r) for r in report["results"]]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(widths[i]) if i in (0, 7, 8, 9) else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    meta = report["meta"]
    head = [
        "",
        METHOD,
        f"Load average at start {meta.get('load_start')}, at end {meta.get('load_end')} "
        f"(figures are only comparable on an idle machine).",
        f"Scale {meta['scale']}, seed {meta['seed']}, {meta['database']['version']}, "
        f"{meta['machine'].get('cpu', '?')} x{meta['machine'].get('cores')}, "
        f"{meta['machine'].get('memory_gb', '?')} GB.",
    ]
    if not meta["budgets_apply"]:
        head.append("Budgets are set for full scale on PostgreSQL; PASS/FAIL here is indicative only.")
    tail = [f"note: {r['name']}: {r['note']}" for r in report["results"] if r["status"] == "ok" and r["note"]]
    tail += [f"note: {n}" for n in meta.get("notes", [])]
    migrate = f"migrate {meta['migrate_seconds']:.1f} s, " if meta.get("migrate_seconds") is not None else ""
    within = "PASS" if meta["total_seconds"] < TIME_BUDGET else "FAIL"
    tail.append(f"{migrate}generation {meta['generation_seconds']:.1f} s, total {meta['total_seconds']:.1f} s "
                f"(whole run < {TIME_BUDGET // 60} min at full scale: {within})")
    return "\n".join(head + [""] + lines + [""] + tail)


def render_markdown(report: dict) -> str:
    meta = report["meta"]
    out = [
        f"Scale **{meta['scale']}** (seed {meta['seed']}) on {meta['database']['version']}, "
        f"{meta['machine'].get('cpu', '?')} ({meta['machine'].get('cores')} cores, "
        f"{meta['machine'].get('memory_gb', '?')} GB), {meta['started_at']}; load average "
        f"{meta.get('load_start')} at the start, {meta.get('load_end')} at the end. {METHOD}",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for r in report["results"]:
        out.append("| " + " | ".join(cell.replace("|", "/") for cell in _row(r)) + " |")
    out += ["", "Generation:", "", "| table / step | rows | seconds | method |", "|---|---:|---:|---|"]
    for g in report["generation"]:
        out.append(f"| {g['table']} | {g['rows']:,} | {g['seconds']:.2f} | {g['method']} |")
    out.append(f"| **total generation** | | {meta['generation_seconds']:.1f} | |")
    return "\n".join(out)


def update_docs(report: dict, path: Path = DOCS) -> None:
    text = path.read_text()
    start, end = text.index(MARK_START) + len(MARK_START), text.index(MARK_END)
    path.write_text(text[:start] + "\n" + render_markdown(report) + "\n" + text[end:])


# --- Entry point --------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="full")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--no-browser", action="store_true", help="skip the LCP pass (Playwright + Chromium)")
    parser.add_argument("--only", default="", help="comma-separated case names (core always runs)")
    parser.add_argument("--database-url", default=None,
                        help="the bench database (default: <DATABASE_URL name>_bench, or bench/bench.sqlite3)")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the JSON results")
    parser.add_argument("--markdown", action="store_true", help="print the last results as Markdown and exit")
    parser.add_argument("--update-docs", action="store_true",
                        help="rewrite the results section of docs/performance.md from the last results and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.markdown or args.update_docs:
        path = Path(args.results)
        if not path.exists():
            print(f"No results at {path}: run `make bench` first.", file=sys.stderr)
            return 1
        report = json.loads(path.read_text())
        if args.update_docs:
            update_docs(report)
            print(f"Updated {DOCS}")
        else:
            print(render_markdown(report))
        return 0

    from bench.generate import bench_database_url, is_postgres_url, migrate, recreate_database, setup_django

    url = args.database_url or bench_database_url(os.environ.get("DATABASE_URL"))
    if args.scale == "full" and not is_postgres_url(url):
        print("warning: full scale on SQLite; the budgets are set for PostgreSQL.", file=sys.stderr)
    print(f"Recreating the bench database {url.rsplit('@', 1)[-1]} (your data is not touched) ...", flush=True)
    recreate_database(url)
    setup_django(url)
    timer = Timer()
    start = time.perf_counter()
    migrate(timer)
    migrate_seconds = time.perf_counter() - start
    timer.sections.clear()  # migration time is reported apart from the generation
    run_bench(scale=args.scale, seed=args.seed, browser=not args.no_browser,
              only=[n.strip() for n in args.only.split(",") if n.strip()] or None,
              results_path=Path(args.results), database_url=url, migrate_seconds=round(migrate_seconds, 2),
              timer=timer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
