"""Two versions of the code in one interleaved run: list 50 and pages of PAGES against both.

    git archive <before-commit> | tar -x -C /tmp/before && ln -s $PWD/.venv $PWD/node_modules /tmp/before/
    createdb -T <name>_floors_bench <name>after_floors_bench     # a copy for the branch's migrations
    DATABASE_URL=.../<name>after_floors_bench .venv/bin/python manage.py migrate
    .venv/bin/python -m bench.floors_ab --before-root /tmp/before --before-db <url> --after-db <url> \\
        --data bench/floors.data.json --pages "page: KPI,page: home" --rounds 40

`make floors` compares the cases of one server with its floors; a change to a page is best judged
by the page before and after *in the same rounds*, since the shared machine's load moves every
figure between runs. This starts two gunicorns (1 sync worker, DEBUG off, the shipped settings):
the code at --before-root on --before-db, this checkout on --after-db (the same data; a copy lets
the branch's migrations run), each with its own cache database (REDIS_CACHE_DB 1 and 2: the
figures of one never serve the other), signs in to both and sends every case once per round in a
rotated order. Prints medians, each page against the mean of both servers' list 50, and after /
before per page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from pathlib import Path

from bench import load
from bench.floors import PAGES, Client, run_rounds, sign_in


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-root", required=True, help="a checkout of the code before")
    parser.add_argument("--before-db", required=True)
    parser.add_argument("--after-db", required=True)
    parser.add_argument("--data", required=True, help="the floors run's data file (bench/floors.data.json)")
    parser.add_argument("--pages", required=True, help="names from bench/floors.py PAGES, comma-separated")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--results", default=str(Path(__file__).resolve().parent / "floors_ab.json"))
    args = parser.parse_args(argv)

    want = [p.strip() for p in args.pages.split(",")]
    unknown = set(want) - {name for name, _ in PAGES}
    if unknown:
        raise SystemExit(f"not in PAGES: {', '.join(sorted(unknown))}")
    from bench.generate import BENCH_EMAIL, BENCH_PASSWORD, setup_django

    setup_django(args.after_db)
    data = json.loads(Path(args.data).read_text())
    # The two servers' cache databases: 1 and 2, or AB_CACHE_DBS ("10,12") on a shared Redis.
    before_cache, after_cache = os.environ.get("AB_CACHE_DBS", "1,2").split(",")
    sides = {"before": (Path(args.before_root), args.before_db, before_cache),
             "after": (Path(__file__).resolve().parents[1], args.after_db, after_cache)}
    servers, cases = {}, {}
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    root = load.ROOT
    try:
        for side, (code, url, cache_db) in sides.items():
            port = load._free_port()
            load.ROOT, os.environ["REDIS_CACHE_DB"] = code, cache_db
            log = Path(os.environ.get("TMPDIR", "/tmp")) / f"pmhub-floors-ab-{side}-{port}.log"
            servers[side] = load.start_server(url, port, 1, f"pmhub-ab-{uuid.uuid4().hex[:8]}", log,
                                              settings_module="bench.serving")
            api = Client(port, data["token"])
            browser = Client(port, cookie=sign_in(port, BENCH_EMAIL, BENCH_PASSWORD))
            list50 = f"/api/v1/stories/?product={data['product']}&page_size=50"
            cases[f"{side} list 50"] = lambda api=api, path=list50: api.send("GET", path)[0]
            for name, build in PAGES:
                if name in want:
                    path = build(data)
                    cases[f"{side} {name}"] = lambda b=browser, path=path: b.send("GET", path)[0]
        samples = run_rounds(cases, args.rounds, args.warmup)
    finally:
        load.ROOT = root
        for server in servers.values():
            server.terminate()
            server.wait(20)
    med = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    floor = (med["before list 50"] + med["after list 50"]) / 2
    meta = {"rounds": args.rounds, "warmup": args.warmup, "load_start": load_start,
            "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(f"{args.rounds} rounds after {args.warmup} of warm-up; load average {meta['load_start']} at the start, "
          f"{meta['load_end']} at the end. list 50: before {med['before list 50']:.1f} ms, after "
          f"{med['after list 50']:.1f} ms (ratios against their mean, {floor:.1f} ms).")
    print("| page | before ms | after ms | after / before | before x list 50 | after x list 50 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in want:
        b, a = med[f"before {name}"], med[f"after {name}"]
        print(f"| {name} | {b:.1f} | {a:.1f} | {a / b:.2f} | {b / floor:.2f} | {a / floor:.2f} |")
    Path(args.results).write_text(json.dumps({"meta": meta, "medians_ms": med, "samples_s": samples}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
