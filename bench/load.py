"""`make load`: a bounded load test of mixed reads and writes by simulated users against a real
server (gunicorn, 127.0.0.1) on a seeded dataset.

    .venv/bin/python -m bench.load                      # 50 users, 60 s, small dataset
    .venv/bin/python -m bench.load --users 20 --duration 30 --scale tiny

It recreates its own database (`<name>_load_bench`, derived from DATABASE_URL; never yours),
generates the bench dataset (bench/generate.py and bench/cases, --scale small by default), starts
`gunicorn pmhub.wsgi -w 4` on a free port, and runs N user threads (stdlib http.client, no new
dependency) for at most 2 minutes. Each user signs in (a session for the pages, the bench API
token for the API), then loops: pick a request by weight, send it, think 0.5-1.5 s. Reads: backlog
page, stories API, timeline API, product dashboard. Writes: story create, story patch (with the
version it read), measurement upsert, event ingestion (an ingestion key).

Prints requests, errors, throughput and p50/p95/p99 per endpoint and the load average. Exits
non-zero on any error (any status >= 400 or a failed connection) or when an endpoint's p95 is
over the budget (300 ms). Tasks go to a queue of their own on the broker (no worker: the load is
the web tier), which is deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
P95_BUDGET_MS = 300.0
MAX_DURATION = 120.0
THINK = (0.5, 1.5)
WEIGHTS = {  # reads ~70 %, writes ~30 %
    "backlog page": 15, "stories API": 20, "timeline API": 15, "dashboard": 20,
    "story create": 7, "story patch": 8, "measurement upsert": 7, "event ingestion": 8,
}


def load_database_url(database_url: str | None) -> str:
    from bench.generate import bench_database_url

    if not database_url or database_url.startswith("sqlite"):
        return bench_database_url(database_url)
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "pmhub"
    return urlunsplit(parts._replace(path=f"/{name}_load_bench"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))]


# --- dataset -----------------------------------------------------------------------------------
def seed(scale: str, seed_value: int) -> dict:
    """Generate the bench dataset and what the simulated users need (ids, token, session, key)."""
    from bench import cases as cases_pkg
    from bench.generate import analyze, generate_core, vendor
    from bench.harness import SCALES, Context, Timer

    ctx = Context(rng=random.Random(seed_value), scale=SCALES[scale], timer=Timer(), vendor=vendor(), seed=seed_value)
    generate_core(ctx)
    for module in cases_pkg.discover():
        if not cases_pkg.missing_requirements(module):
            module.generate(ctx)
    _valid_rank_keys()
    analyze(ctx)

    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore

    from adoption.services import ingestion_key_create

    user = ctx.user
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    _, ingestion_key = ingestion_key_create(user=user, product=ctx.product, name="load test")
    return {
        "workspace": ctx.workspace.slug, "product": ctx.product.pk, "token": ctx.token,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}", "ingestion_key": ingestion_key,
        "kpi_ids": list(ctx.data.get("kpi_ids", []))[:3],
    }


def _valid_rank_keys() -> None:
    """bench/cases/backlog.py writes zero-padded keys ending in "0" ("0000060000"), which
    backlog.ranking refuses (a key never ends with "0"): creating a story after the last one then
    fails. Appending "1" to every generated key keeps their order and makes them valid."""
    from django.db import connection

    from bench.cases.backlog import rank_field

    field = rank_field()
    if field is None or field.get_internal_type() not in ("CharField", "TextField"):
        return
    table = field.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'UPDATE {table} SET "{field.column}" = "{field.column}" || \'1\' '  # noqa: S608
                       f'WHERE "{field.column}" LIKE %s', ["%0"])


# --- server ------------------------------------------------------------------------------------
def start_server(url: str, port: int, workers: int, queue: str, log_path: Path,
                 settings_module: str = "pmhub.settings") -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=url, DJANGO_SETTINGS_MODULE=settings_module, DEBUG="false",
               CELERY_QUEUE=queue, API_THROTTLE_TOKEN="100000000/min", API_THROTTLE_ADDRESS="100000000/min",
               ALLOWED_HOSTS="127.0.0.1,localhost",
               # DEBUG off refuses the public default key (pmhub/checks.py): a throwaway one per run.
               SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50))
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed with it
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "pmhub.wsgi", "-w", str(workers),
                             "-b", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/accounts/login/")
            conn.getresponse().read()
            conn.close()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


# --- users -------------------------------------------------------------------------------------
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str, seconds: float, error: str | None):
        with self.lock:
            self.samples[name].append(seconds)
            if error:
                self.errors[name].append(error)


class User(threading.Thread):
    def __init__(self, index: int, port: int, data: dict, stats: Stats, stop_at: float, start_delay: float):
        super().__init__(daemon=True)
        self.index, self.port, self.data, self.stats = index, port, data, stats
        self.stop_at, self.start_delay = stop_at, start_delay
        self.rng = random.Random(index)
        self.conn: http.client.HTTPConnection | None = None
        self.story: dict | None = None  # {"id", "version"} of the story this user created
        self.batch = 0

    def request(self, name: str, method: str, path: str, body=None, headers=None, ok=(200,)):
        headers = dict(headers or {})
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        error, data = None, None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
            if response.status not in ok:
                error = f"{response.status} {raw[:200]!r}"
            elif raw and response.getheader("Content-Type", "").startswith("application/json"):
                data = json.loads(raw)
            if response.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        self.stats.add(name, time.perf_counter() - started, error)
        return data

    def api(self):
        return {"Authorization": f"Token {self.data['token']}"}

    def run(self):
        time.sleep(self.start_delay)
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        while time.monotonic() < self.stop_at:
            getattr(self, "do_" + self.rng.choices(names, weights)[0].replace(" ", "_"))()
            time.sleep(self.rng.uniform(*THINK))
        if self.conn is not None:
            self.conn.close()

    # reads
    def do_backlog_page(self):
        d = self.data
        self.request("backlog page", "GET", f"/w/{d['workspace']}/products/{d['product']}/backlog/",
                     headers={"Cookie": d["cookie"]})

    def do_stories_API(self):
        self.request("stories API", "GET", f"/api/v1/stories/?product={self.data['product']}&page_size=50",
                     headers=self.api())

    def do_timeline_API(self):
        self.request("timeline API", "GET", f"/api/v1/products/{self.data['product']}/timeline/", headers=self.api())

    def do_dashboard(self):
        d = self.data
        self.request("dashboard", "GET", f"/w/{d['workspace']}/products/{d['product']}/dashboard/",
                     headers={"Cookie": d["cookie"]})

    # writes
    def do_story_create(self):
        created = self.request("story create", "POST", "/api/v1/stories/", headers=self.api(), ok=(201,), body={
            "product": self.data["product"], "title": f"Load user {self.index} story {uuid.uuid4().hex[:6]}",
            "as_a": "product manager", "i_want": "to see it under load", "so_that": "it holds", "points": 3})
        if created:
            self.story = {"id": created["id"], "version": created.get("version")}

    def do_story_patch(self):
        if self.story is None:
            return self.do_story_create()
        updated = self.request("story patch", "PATCH", f"/api/v1/stories/{self.story['id']}/", headers=self.api(),
                               body={"points": self.rng.randint(1, 13), "version": self.story["version"]})
        if updated:
            self.story["version"] = updated.get("version")

    def do_measurement_upsert(self):
        if not self.data["kpi_ids"]:
            return None
        # The load client has no Django (so no pmhub.clock): the bench workspace's zone is UTC, and
        # a day after the server's today would be refused (decisions/1112).
        day = datetime.now(UTC).date() - timedelta(days=self.rng.randint(0, 10))
        self.request("measurement upsert", "POST", "/api/v1/measurements/", headers=self.api(), ok=(200, 201),
                     body={"kpi": self.rng.choice(self.data["kpi_ids"]), "period": day.isoformat(),
                           "value": round(self.rng.uniform(10, 90), 2)})

    def do_event_ingestion(self):
        self.batch += 1
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        events = [{"id": f"load-{self.index}-{self.batch}-{i}", "feature": f"feature_{i % 5}",
                   "actor": f"user-{self.rng.randint(1, 500)}", "occurred_at": at} for i in range(50)]
        self.request("event ingestion", "POST", "/api/v1/events/bulk/", ok=(202,), body={"events": events},
                     headers={"Authorization": f"Bearer {self.data['ingestion_key']}"})


# --- report ------------------------------------------------------------------------------------
def report(stats: Stats, elapsed: float, users: int, load_before, load_after, out=sys.stdout) -> tuple[int, list]:
    total = sum(len(v) for v in stats.samples.values())
    errors = sum(len(v) for v in stats.errors.values())
    over = []
    print(f"\n{'endpoint':<20} {'requests':>8} {'errors':>6} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7}", file=out)
    for name in WEIGHTS:
        samples = stats.samples.get(name, [])
        if not samples:
            print(f"{name:<20} {0:>8}", file=out)
            continue
        ms = [s * 1000 for s in samples]
        p95 = percentile(ms, 95)
        if p95 > P95_BUDGET_MS:
            over.append((name, p95))
        print(f"{name:<20} {len(ms):>8} {len(stats.errors.get(name, [])):>6} {len(ms) / elapsed:>6.1f} "
              f"{percentile(ms, 50):>7.0f} {p95:>7.0f} {percentile(ms, 99):>7.0f} {max(ms):>7.0f}", file=out)
    every = [s * 1000 for v in stats.samples.values() for s in v]
    if every:
        print(f"{'all':<20} {total:>8} {errors:>6} {total / elapsed:>6.1f} {percentile(every, 50):>7.0f} "
              f"{percentile(every, 95):>7.0f} {percentile(every, 99):>7.0f} {max(every):>7.0f}", file=out)
    print(f"\n{users} users, {elapsed:.0f} s, {total} requests, {errors} errors, {total / elapsed:.1f} req/s; "
          f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} CPUs", file=out)
    for name, messages in stats.errors.items():
        for message in messages[:3]:
            print(f"  error {name}: {message}", file=out)
    return errors, over


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (at most 120)")
    parser.add_argument("--scale", default="small", choices=("tiny", "small"))
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=20261126)
    args = parser.parse_args(argv)
    duration = min(args.duration, MAX_DURATION)

    from bench.generate import migrate, recreate_database, setup_django
    from bench.harness import Timer

    url = load_database_url(os.environ.get("DATABASE_URL"))
    print(f"Recreating the load database {url.rsplit('@', 1)[-1]} (your data is not touched) ...", flush=True)
    recreate_database(url)
    setup_django(url)
    started = time.perf_counter()
    migrate(Timer())
    data = seed(args.scale, args.seed)
    print(f"Seeded ({args.scale}) in {time.perf_counter() - started:.0f} s.", flush=True)
    from django.db import connections

    connections.close_all()

    queue = f"pmhub-load-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pmhub-load-{port}.log"
    server = start_server(url, port, args.workers, queue, log_path)
    try:
        print(f"gunicorn -w {args.workers} on 127.0.0.1:{port}; {args.users} users for {duration:.0f} s ...",
              flush=True)
        stats = Stats()
        load_before = os.getloadavg()
        t0 = time.monotonic()
        ramp = min(5.0, duration / 4)
        users = [User(i, port, data, stats, t0 + duration, ramp * i / args.users) for i in range(args.users)]
        for user in users:
            user.start()
        for user in users:
            user.join(duration + 60)
        elapsed = time.monotonic() - t0
        load_after = os.getloadavg()
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        _drop_queue(queue)
    errors, over = report(stats, elapsed, args.users, load_before, load_after)
    if errors:
        print(f"FAIL: {errors} errors (server log: {log_path})")
        return 1
    if over:
        print("FAIL: p95 over the {:.0f} ms budget: {}".format(
            P95_BUDGET_MS, ", ".join(f"{n} {p:.0f} ms" for n, p in over)))
        return 1
    print(f"PASS: no errors, every p95 under {P95_BUDGET_MS:.0f} ms")
    return 0


def _drop_queue(queue: str) -> None:
    """The tasks the load queued (webhooks, rollups) are not processed: drop their queue."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return
    try:
        import redis

        redis.Redis.from_url(settings.REDIS_URL).delete(queue)
    except Exception as exc:  # noqa: BLE001 - cleanup only
        print(f"warning: could not delete the queue {queue}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
