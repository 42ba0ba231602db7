"""`make load`: issue 23's load test. 200 simulated people (a team grooming a backlog and leaders
opening dashboards) against the shipped serving configuration limited to two CPUs, with one live
websocket per person held open, then the saturation throughput of the mix and of the framework
floor.

    .venv/bin/python -m bench.load                          # the issue's test: 200 users, ~4-5 min
    .venv/bin/python -m bench.load --users 20 --duration 15 --scale tiny --no-fail   # a smoke run
    .venv/bin/python -m bench.load --worker-class sync      # compare worker classes (decision 1940)

What it does, in order:

1. Recreates its own database (`<name>_load_bench`, derived from DATABASE_URL; never yours) and
   generates the bench dataset (bench/generate.py and bench/cases; `--scale small` by default:
   1,000 stories in the measured backlog, KPIs, events, ideas with a portal).
2. Starts the two serving processes as shipped, each under `taskset -c 0,1` (`--cpus`): `web`,
   gunicorn with gunicorn.conf.py (the WSGI pages and API; with bench/serving.py's settings, which
   add the fixed-body floor view), and `live`, `uvicorn pmhub.asgi` (the websockets). PostgreSQL
   and Redis run on the same two CPUs; so does this client (on a 2-core machine nothing else is
   left), which the figures therefore include.
3. Steady state (`--duration`, 60 s): N users (`--users`, 200), each with a session for the pages,
   the bench API token, a visitor cookie for the ideas portal and a websocket to `live`
   subscribed to the workspace. 85 % groom (backlog, status board, story pages; stories API list
   and get; moves, edits, creates, comments, portal votes), 15 % lead (workspace and product
   dashboards, timeline and roadmap board, home, adoption). Each thinks 1-3 s (`--think`) between
   requests. The first `--warmup` seconds (users arriving, workers warming) are not counted.
4. Saturation: closed loops without think time at 2, 4, 8, 16 and 32 concurrent clients,
   `--ramp-seconds` each, first sending the mix, then the fixed ~78 KB body of the plain Django
   floor view (`/__bench__/plain/`): the highest requests/s of each, and their ratio.

Writes bench/load.json (every figure, the machine, the load average) and bench/load.md (the
Markdown table of docs/performance.md), prints the table, and exits non-zero when the p95 of the
steady state is 300 ms or more, or on any error: a status other than the expected one, a failed
connection, or a websocket that closed during the run (`--no-fail` only reports). Tasks go to a
queue of their own on the broker (no worker: the load is the web tier), deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "load.json"
P95_BUDGET_MS = 300.0
MAX_DURATION = 300.0
# What each kind of person sends (weights within the person's mix).
GROOMER = {
    "backlog page": 14,
    "status board page": 8,
    "story page": 6,
    "stories API (list 50)": 14,
    "story API (get)": 10,
    "move": 12,
    "edit": 8,
    "create": 4,
    "comment": 6,
    "vote": 3,
}
LEADER = {
    "workspace dashboard": 6,
    "product dashboard": 6,
    "timeline page": 5,
    "roadmap board page": 4,
    "home": 3,
    "adoption page": 2,
    "timeline API": 2,
    "backlog page": 2,
}
LEADER_SHARE = 0.15
ENDPOINTS = list(dict.fromkeys([*GROOMER, *LEADER]))
RAMP_LEVELS = (2, 4, 8, 16, 32)
# How pmhub.consumers.Hub encodes an event for the pages (json.dumps({"type": "event", ...})).
EVENT_OPENING = '{"type": "event", '


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
    """Nearest rank: the smallest value with at least pct % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))]


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
    from django.contrib.sessions.backends.cached_db import SessionStore

    from adoption.services import ingestion_key_create

    user = ctx.user
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    _, ingestion_key = ingestion_key_create(user=user, product=ctx.product, name="load test")
    return {
        "workspace": ctx.workspace.slug,
        "workspace_id": ctx.workspace.pk,
        "product": ctx.product.pk,
        "token": ctx.token,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}",
        "ingestion_key": ingestion_key,
        "kpi_ids": list(ctx.data.get("kpi_ids", []))[:3],
        "story_ids": _story_ids(ctx.product.pk, 2_000),
        "portal": _portal(),
    }


def _story_ids(product_id: int, n: int) -> list[int]:
    from backlog.models import Story

    return list(Story.objects.filter(product_id=product_id).order_by("id").values_list("id", flat=True)[:n])


def _portal() -> dict | None:
    """The ideas portal of the dataset, its ideas and a signed visitor cookie per visitor (votes)."""
    from django.apps import apps
    from django.core import signing

    if not apps.is_installed("discovery"):
        return None
    from discovery.models import Idea, Portal, Visitor
    from discovery.portal_views import COOKIE_SALT, _cookie_name

    portal = Portal.objects.filter(enabled=True).order_by("id").first()
    if portal is None:
        return None
    name = _cookie_name(portal)
    signer = signing.get_cookie_signer(salt=name + COOKIE_SALT)
    visitors = Visitor.objects.filter(portal=portal).order_by("id").values_list("id", flat=True)[:500]
    ideas = Idea.objects.filter(product=portal.product, published=True, merged_into__isnull=True)
    return {
        "slug": portal.slug,
        "ideas": list(ideas.order_by("id").values_list("id", flat=True)[:200]),
        "cookies": [f"{name}={signer.sign(str(v))}" for v in visitors],
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
        cursor.execute(
            f'UPDATE {table} SET "{field.column}" = "{field.column}" || \'1\' '  # noqa: S608
            f'WHERE "{field.column}" LIKE %s',
            ["%0"],
        )


# --- servers -----------------------------------------------------------------------------------
def _pinned(args: list[str], cpus: str | None) -> list[str]:
    if cpus and shutil.which("taskset"):
        return ["taskset", "-c", cpus, *args]
    return args


def server_env(url: str, queue: str, settings_module: str = "pmhub.settings", **extra) -> dict:
    return dict(
        os.environ,
        DATABASE_URL=url,
        DJANGO_SETTINGS_MODULE=settings_module,
        DEBUG="false",
        CELERY_QUEUE=queue,
        API_THROTTLE_TOKEN="100000000/min",
        API_THROTTLE_ADDRESS="100000000/min",
        DISCOVERY_PUBLIC_RATE="100000000/min",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
        # DEBUG off refuses the public default key (pmhub/checks.py): a throwaway one per run.
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        **extra,
    )


def _wait_for(proc: subprocess.Popen, port: int, path: str, log_path: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"{what} did not answer within 60 s")


def start_server(
    url: str,
    port: int,
    workers: int | None,
    queue: str,
    log_path: Path,
    settings_module: str = "pmhub.settings",
    *,
    worker_class: str = "sync",
    threads: int | None = None,
    cpus: str | None = None,
) -> subprocess.Popen:
    """gunicorn with the shipped gunicorn.conf.py (read from the repository root), the worker class,
    processes and threads given (None: the configuration's own default), no access log."""
    extra = {"GUNICORN_WORKER_CLASS": worker_class, "GUNICORN_ACCESS_LOG": ""}
    if worker_class == "uvicorn":
        # Under ASGI each request's sync code runs in a thread of its own: persistent connections
        # pile up to PostgreSQL's max_connections (measured: 2,060 errors of 3,000 requests).
        extra["CONN_MAX_AGE"] = "0"
    if workers:
        extra["WEB_CONCURRENCY"] = str(workers)
    if threads:
        extra["GUNICORN_THREADS"] = str(threads)
    env = server_env(url, queue, settings_module, **extra)
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed with it
    args = _pinned(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cpus,
    )
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _wait_for(proc, port, "/accounts/login/", log_path, "gunicorn")
    return proc


def start_live(url: str, port: int, queue: str, log_path: Path, cpus: str | None) -> subprocess.Popen:
    """The live process as docker-compose.yml runs it: one uvicorn process serving pmhub.asgi."""
    env = server_env(url, queue, CONN_MAX_AGE="0")
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the child, closed with it
    args = _pinned(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "pmhub.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--lifespan",
            "off",
            "--log-level",
            "warning",
            "--no-access-log",
            "--backlog",
            "4096",
            # As docker-compose.yml's live: thin events are not compressed (decision 1971).
            "--ws-per-message-deflate",
            "false",
        ],
        cpus,
    )
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _wait_for(proc, port, "/healthz", log_path, "uvicorn (live)")
    return proc


def _stop(proc: subprocess.Popen | None) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- users -------------------------------------------------------------------------------------
class Stats:
    def __init__(self, count_after: float = 0.0):
        self.lock = threading.Lock()
        self.count_after = count_after  # monotonic time: requests started before it are warm-up
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str, started: float, seconds: float, error: str | None):
        with self.lock:
            if error:  # an error counts whenever it happens
                self.errors[name].append(error)
            if started >= self.count_after:
                self.samples[name].append(seconds)


class Session:
    """One person's HTTP connection (keep-alive when the server allows it) and what they own."""

    def __init__(self, index: int, port: int, data: dict, stats: Stats):
        self.index, self.port, self.data, self.stats = index, port, data, stats
        self.rng = random.Random(index)
        self.conn: http.client.HTTPConnection | None = None
        ids = data["story_ids"]
        self.mine = ids[index % len(ids) :: max(1, min(len(ids), 200))] or ids[:1]  # edited by this person only
        self.versions: dict[int, int] = {}
        portal = data.get("portal")
        self.visitor = portal["cookies"][index % len(portal["cookies"])] if portal and portal["cookies"] else None

    def request(self, name: str, method: str, path: str, body=None, headers=None, ok=(200,), form=False):
        headers = dict(headers or {})
        payload = None
        if body is not None:
            if form:
                payload = "&".join(f"{k}={v}" for k, v in body.items()).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        started = time.monotonic()
        error, data = None, None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
            if response.status not in ok:
                error = f"{response.status} {method} {path} {raw[:200]!r}"
            elif raw and response.getheader("Content-Type", "").startswith("application/json"):
                data = json.loads(raw)
            if response.will_close:
                self.conn.close()
                self.conn = None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc} ({method} {path})"
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        self.stats.add(name, started, time.monotonic() - started, error)
        return data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # --- what a person does -------------------------------------------------------------------
    def page(self, name: str, path: str):
        self.request(name, "GET", f"/w/{self.data['workspace']}/{path}", headers={"Cookie": self.data["cookie"]})

    def api(self, name: str, method: str, path: str, body=None, ok=(200,)):
        return self.request(
            name, method, f"/api/v1/{path}", body=body, ok=ok, headers={"Authorization": f"Token {self.data['token']}"}
        )

    def send(self, name: str) -> None:
        d, p = self.data, self.data["product"]
        story = self.rng.choice(d["story_ids"])
        if name == "backlog page":
            self.page(name, f"products/{p}/backlog/")
        elif name == "status board page":
            self.page(name, f"products/{p}/backlog/board/")
        elif name == "story page":
            self.page(name, f"products/{p}/backlog/stories/{story}/")
        elif name == "timeline page":
            self.page(name, f"products/{p}/roadmap/timeline/")
        elif name == "roadmap board page":
            self.page(name, f"products/{p}/roadmap/board/")
        elif name == "product dashboard":
            self.page(name, f"products/{p}/dashboard/")
        elif name == "workspace dashboard":
            self.page(name, "dashboard/")
        elif name == "adoption page":
            self.page(name, f"products/{p}/adoption/")
        elif name == "home":
            self.page(name, "")
        elif name == "stories API (list 50)":
            self.api(name, "GET", f"stories/?product={p}&page_size=50")
        elif name == "story API (get)":
            self._remember(self.api(name, "GET", f"stories/{story}/"))
        elif name == "timeline API":
            self.api(name, "GET", f"products/{p}/timeline/")
        elif name == "move":
            before = self.rng.choice(d["story_ids"])
            if before != story:
                self._remember(self.api(name, "POST", f"stories/{story}/move/", {"before": before}))
        elif name == "edit":
            mine = self.rng.choice(self.mine)
            if mine not in self.versions:  # open it first, as a person does
                self._remember(self.api("story API (get)", "GET", f"stories/{mine}/"))
            if mine in self.versions:
                self._remember(
                    self.api(
                        name,
                        "PATCH",
                        f"stories/{mine}/",
                        {"points": self.rng.choice([1, 2, 3, 5, 8]), "version": self.versions[mine]},
                    )
                )
        elif name == "create":
            self.api(
                name,
                "POST",
                "stories/",
                ok=(201,),
                body={
                    "product": p,
                    "title": f"Load user {self.index} story {uuid.uuid4().hex[:6]}",
                    "as_a": "product manager",
                    "i_want": "to see it under load",
                    "so_that": "it holds",
                    "points": 3,
                },
            )
        elif name == "comment":
            self.api(
                name, "POST", f"stories/{story}/comments/", {"body": "Looks right to me; ready for sprint."}, ok=(201,)
            )
        elif name == "vote":
            portal = d.get("portal")
            if portal and portal["ideas"] and self.visitor:
                token = secrets.token_hex(16)  # a CSRF secret of our own: cookie and form field agree
                self.request(
                    name,
                    "POST",
                    f"/portal/{portal['slug']}/ideas/{self.rng.choice(portal['ideas'])}/",
                    body={"action": "vote", "importance": self.rng.randint(1, 3), "csrfmiddlewaretoken": token},
                    headers={"Cookie": f"{self.visitor}; csrftoken={token}"},
                    ok=(302,),
                    form=True,
                )
        else:
            raise ValueError(name)

    def _remember(self, story: dict | None) -> None:
        if story and "id" in story and story.get("version") is not None:
            self.versions[story["id"]] = story["version"]


class User(threading.Thread):
    """A person with think time: groomer or leader."""

    def __init__(self, session: Session, leader: bool, stop_at: float, start_delay: float, think: tuple):
        super().__init__(daemon=True)
        self.session, self.stop_at, self.start_delay, self.think = session, stop_at, start_delay, think
        mix = LEADER if leader else GROOMER
        self.names, self.weights = list(mix), list(mix.values())

    def run(self):
        time.sleep(self.start_delay)
        rng = self.session.rng
        while time.monotonic() < self.stop_at:
            self.session.send(rng.choices(self.names, self.weights)[0])
            time.sleep(rng.uniform(*self.think))
        self.session.close()


# --- live websockets -----------------------------------------------------------------------------
class LiveSockets(threading.Thread):
    """One websocket per person to the live process, subscribed to the workspace, held open for the
    steady state; counts the events received and any socket that closes before the end."""

    def __init__(self, port: int, web_port: int, data: dict, count: int):
        super().__init__(daemon=True)
        self.port, self.web_port, self.data, self.count = port, web_port, data, count
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stopping = False
        self.opened = 0
        self.events = 0
        self.errors: list[str] = []
        self.connect_seconds = 0.0
        self._done: asyncio.Future | None = None

    def run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self):
        from websockets.asyncio.client import connect

        self._done = self.loop.create_future()
        uri, origin = f"ws://127.0.0.1:{self.port}/ws/live/", f"http://127.0.0.1:{self.web_port}"

        async def one(i):
            try:
                sock = await connect(
                    uri,
                    origin=origin,
                    additional_headers={"Cookie": self.data["cookie"]},
                    open_timeout=60,
                    ping_interval=None,
                    max_queue=None,
                )
                await sock.send(
                    json.dumps({"op": "subscribe", "workspace": self.data["workspace_id"], "tab": f"load-{i:06d}"})
                )
                answer = json.loads(await asyncio.wait_for(sock.recv(), 60))
                if answer.get("type") != "subscribed":  # refused (signed out, not a member)
                    raise RuntimeError(f"subscribe answered {answer}")
                self.opened += 1
                return sock
            except Exception as exc:  # noqa: BLE001 - every failure is a reported error
                self.errors.append(f"socket {i} did not open: {type(exc).__name__}: {exc}")
                return None

        started = time.perf_counter()
        sockets = []
        for first in range(0, self.count, 50):
            sockets += await asyncio.gather(*(one(i) for i in range(first, min(first + 50, self.count))))
        self.connect_seconds = time.perf_counter() - started
        self.ready.set()

        async def read(i, sock):
            try:
                async for raw in sock:
                    # Only the kind of message counts here: the hub encodes every event with the
                    # same opening, so the client need not decode 5,000 messages a second on the
                    # two CPUs it shares with the server (anything else is decoded).
                    if is_event(raw):
                        self.events += 1
            except Exception as exc:  # noqa: BLE001
                if not self.stopping:
                    self.errors.append(f"socket {i}: {type(exc).__name__}: {exc}")
                return
            if not self.stopping:
                self.errors.append(f"socket {i} closed by the server during the run (code {sock.close_code})")

        readers = [asyncio.ensure_future(read(i, s)) for i, s in enumerate(sockets) if s is not None]
        await self._done
        self.stopping = True
        await asyncio.gather(*(s.close() for s in sockets if s is not None), return_exceptions=True)
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)

    def stop(self):
        if self._done is not None:
            self.loop.call_soon_threadsafe(lambda: self._done.done() or self._done.set_result(None))
        self.join(30)


def is_event(raw: str | bytes) -> bool:
    """Whether a message from the live socket is an event, without decoding the events themselves
    (the hub's encoding opens with EVENT_OPENING); anything else opening otherwise is decoded."""
    if isinstance(raw, bytes):
        raw = raw.decode()
    if raw.startswith(EVENT_OPENING):
        return True
    return not raw.startswith('{"type": "') and json.loads(raw).get("type") == "event"


# --- saturation ----------------------------------------------------------------------------------
def saturation(port: int, data: dict, kind: str, seconds: float, levels=RAMP_LEVELS) -> list[dict]:
    """Closed loops without think time: `level` clients, each sending its next request as soon as
    the last one is answered, for `seconds`; requests/s and p95 per level."""
    rows = []
    mix = {**GROOMER, **{k: v for k, v in LEADER.items() if k not in GROOMER}}
    names, weights = list(mix), list(mix.values())
    for level in levels:
        stats = Stats()
        stop_at = time.monotonic() + seconds
        sessions = [Session(10_000 + level * 100 + i, port, data, stats) for i in range(level)]

        def loop(session, stop_at=stop_at):
            while time.monotonic() < stop_at:
                if kind == "floor":
                    session.request("floor", "GET", "/__bench__/plain/")
                else:
                    session.send(session.rng.choices(names, weights)[0])
            session.close()

        threads = [threading.Thread(target=loop, args=(s,), daemon=True) for s in sessions]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 90)
        elapsed = time.monotonic() - t0
        every = [x for v in stats.samples.values() for x in v]
        errors = sum(len(v) for v in stats.errors.values())
        rows.append(
            {
                "clients": level,
                "requests": len(every),
                "rps": len(every) / elapsed,
                "errors": errors,
                "p50_ms": percentile(every, 50) * 1000 if every else None,
                "p95_ms": percentile(every, 95) * 1000 if every else None,
                "first_error": next((m[0] for m in stats.errors.values() if m), None),
            }
        )
        print(
            f"  {kind:<5} {level:>3} clients: {rows[-1]['rps']:6.1f} req/s, "
            f"p95 {rows[-1]['p95_ms'] or 0:.0f} ms, {errors} errors",
            flush=True,
        )
    return rows


# --- report ------------------------------------------------------------------------------------
def summarize(stats: Stats, seconds: float) -> dict:
    rows = []
    for name in ENDPOINTS:
        values = stats.samples.get(name, [])
        ms = [v * 1000 for v in values]
        rows.append(
            {
                "endpoint": name,
                "requests": len(ms),
                "errors": len(stats.errors.get(name, [])),
                "rps": len(ms) / seconds if seconds else 0,
                "p50_ms": percentile(ms, 50) if ms else None,
                "p95_ms": percentile(ms, 95) if ms else None,
                "p99_ms": percentile(ms, 99) if ms else None,
                "max_ms": max(ms) if ms else None,
            }
        )
    every = [v * 1000 for values in stats.samples.values() for v in values]
    total = {
        "requests": len(every),
        "errors": sum(len(v) for v in stats.errors.values()),
        "rps": len(every) / seconds if seconds else 0,
        "p50_ms": percentile(every, 50) if every else None,
        "p95_ms": percentile(every, 95) if every else None,
        "p99_ms": percentile(every, 99) if every else None,
        "max_ms": max(every) if every else None,
    }
    return {
        "endpoints": rows,
        "total": total,
        "error_samples": [m for messages in stats.errors.values() for m in messages[:3]][:20],
    }


def _ms(value) -> str:
    return "" if value is None else f"{value:.0f}"


def render(result: dict) -> str:
    meta, steady, total = result["meta"], result["steady"], result["steady"]["total"]
    lines = [
        "| users | requests/s | p50 | p95 | p99 | errors | live sockets open / events received |",
        "|---|---|---|---|---|---|---|",
        f"| {meta['users']} | {total['rps']:.1f} | {_ms(total['p50_ms'])} ms | {_ms(total['p95_ms'])} ms | "
        f"{_ms(total['p99_ms'])} ms | {total['errors'] + len(result['live']['errors'])} | "
        f"{result['live']['opened']} / {result['live']['events']:,} |",
        "",
        "| request | share | requests | p50 ms | p95 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in steady["endpoints"]:
        if row["requests"] or row["errors"]:
            share = row["requests"] / total["requests"] * 100 if total["requests"] else 0
            lines.append(
                f"| {row['endpoint']} | {share:.0f} % | {row['requests']} | {_ms(row['p50_ms'])} | "
                f"{_ms(row['p95_ms'])} | {_ms(row['p99_ms'])} | {row['errors']} |"
            )
    sat = result.get("saturation")
    if sat:
        lines += [
            "",
            "| saturation (closed loop, no think time) | "
            + " | ".join(f"{r['clients']}" for r in sat["mix"])
            + " clients | best |",
            "|---|" + "---:|" * (len(sat["mix"]) + 1),
        ]
        for kind in ("mix", "floor"):
            lines.append(
                f"| {kind} req/s | "
                + " | ".join(f"{r['rps']:.0f}" for r in sat[kind])
                + f" | **{sat[kind + '_best']:.0f}** |"
            )
        lines += [
            "",
            f"Saturation throughput of the mix / of the fixed-body floor: {sat['mix_best']:.0f} / "
            f"{sat['floor_best']:.0f} req/s = **{sat['ratio']:.2f}**.",
        ]
    lines += [
        "",
        (
            f"{meta['started_at']}, {meta['machine']}; server pinned to CPUs {meta['cpus'] or 'all'} "
            f"(PostgreSQL, Redis and the load client on the same machine); web: gunicorn "
            f"{meta['worker_class']} {meta['workers']} workers"
            f"{' x ' + str(meta['threads']) + ' threads' if meta['worker_class'] == 'gthread' else ''}, "
            f"live: 1 uvicorn process; {meta['scale']} dataset; {meta['duration']:.0f} s steady state "
            f"after {meta['warmup']:.0f} s warm-up, think {meta['think'][0]:g}-{meta['think'][1]:g} s. "
            f"Load average {meta['load_before']} before, {meta['load_after']} after."
        ),
    ]
    return "\n".join(lines)


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model or platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of steady state (at most 300)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds not counted while the users arrive")
    parser.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"))
    parser.add_argument("--scale", default="small", choices=("tiny", "small", "full", "huge"))
    parser.add_argument(
        "--worker-class",
        default="",
        choices=("", "sync", "gthread", "uvicorn"),
        help="web's worker class (default: gunicorn.conf.py's)",
    )
    parser.add_argument("--workers", type=int, default=None, help="web processes (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None, help="threads per gthread worker")
    parser.add_argument("--cpus", default="0,1", help="taskset CPU list for the servers ('' for none)")
    parser.add_argument("--no-live", action="store_true", help="no websockets")
    parser.add_argument("--ramp-seconds", type=float, default=6.0, help="seconds per saturation level (0: skip)")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--results", default=str(RESULTS))
    parser.add_argument("--keep-database", action="store_true", help="reuse the load database of the last run")
    parser.add_argument("--no-fail", action="store_true", help="report only: exit 0 whatever the figures")
    args = parser.parse_args(argv)
    duration = min(args.duration, MAX_DURATION)
    web = configured(args.worker_class, args.workers, args.threads)
    worker_class = web["worker_class"]

    # One key for this process (the session and visitor cookies it signs) and the servers.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    from bench.generate import migrate, recreate_database, setup_django
    from bench.harness import Timer

    url = load_database_url(os.environ.get("DATABASE_URL"))
    data_file = Path(args.results).with_suffix(".data.json")
    if args.keep_database and data_file.exists():
        setup_django(url)
        data = json.loads(data_file.read_text())
        if data.get("secret_key"):
            os.environ["SECRET_KEY"] = data["secret_key"]
    else:
        print(f"Recreating the load database {url.rsplit('@', 1)[-1]} (your data is not touched) ...", flush=True)
        recreate_database(url)
        setup_django(url)
        started = time.perf_counter()
        migrate(Timer())
        data = seed(args.scale, args.seed)
        data["secret_key"] = os.environ["SECRET_KEY"]
        data_file.write_text(json.dumps(data))
        print(f"Seeded ({args.scale}) in {time.perf_counter() - started:.0f} s.", flush=True)
    from django.db import connections

    connections.close_all()

    queue = f"pmhub-load-{uuid.uuid4().hex[:8]}"
    port, live_port = _free_port(), _free_port()
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    log_path, live_log = tmp / f"pmhub-load-{port}.log", tmp / f"pmhub-load-live-{live_port}.log"
    cpus = args.cpus or None
    server = live = sockets = None
    try:
        server = start_server(
            url,
            port,
            args.workers,
            queue,
            log_path,
            "bench.serving",
            worker_class=worker_class,
            threads=args.threads,
            cpus=cpus,
        )
        if not args.no_live:
            live = start_live(url, live_port, queue, live_log, cpus)
            sockets = LiveSockets(live_port, port, data, args.users)
            sockets.start()
            if not sockets.ready.wait(120):
                raise SystemExit("the live sockets did not open within 120 s")
            print(f"{sockets.opened} live sockets open in {sockets.connect_seconds:.1f} s", flush=True)
        print(
            f"web: gunicorn {worker_class} on 127.0.0.1:{port}, CPUs {cpus or 'all'}; {args.users} users, "
            f"{args.warmup:.0f} s warm-up + {duration:.0f} s ...",
            flush=True,
        )
        load_before = _load()
        t0 = time.monotonic()
        stats = Stats(count_after=t0 + args.warmup)
        stop_at = t0 + args.warmup + duration
        rng = random.Random(args.seed)
        leaders = set(rng.sample(range(args.users), round(args.users * LEADER_SHARE)))
        users = [
            User(
                Session(i, port, data, stats),
                i in leaders,
                stop_at,
                min(args.warmup * 0.6, 10.0) * i / args.users,
                tuple(args.think),
            )
            for i in range(args.users)
        ]
        for user in users:
            user.start()
        for user in users:
            user.join(max(0.0, stop_at - time.monotonic()) + 90)
        load_after = _load()
        steady = summarize(stats, duration)
        live_result = {"opened": 0, "events": 0, "errors": [], "connect_seconds": 0.0}
        if sockets is not None:
            sockets.stop()
            live_result = {
                "opened": sockets.opened,
                "events": sockets.events,
                "errors": sockets.errors[:20],
                "connect_seconds": round(sockets.connect_seconds, 2),
            }
        sat = None
        if args.ramp_seconds > 0:
            print("Saturation (closed loop, no think time):", flush=True)
            mix_rows = saturation(port, data, "mix", args.ramp_seconds)
            floor_rows = saturation(port, data, "floor", args.ramp_seconds)
            mix_best = max(r["rps"] for r in mix_rows)
            floor_best = max(r["rps"] for r in floor_rows)
            sat = {
                "mix": mix_rows,
                "floor": floor_rows,
                "mix_best": mix_best,
                "floor_best": floor_best,
                "ratio": mix_best / floor_best if floor_best else 0.0,
            }
    finally:
        if sockets is not None and sockets.is_alive():
            sockets.stop()
        _stop(server)
        _stop(live)
        _drop_queue(queue)
    meta = {
        "users": args.users,
        "duration": duration,
        "warmup": args.warmup,
        "think": list(args.think),
        "scale": args.scale,
        **web,
        "cpus": cpus,
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_before": load_before,
        "load_after": load_after,
        "budget_p95_ms": P95_BUDGET_MS,
    }
    result = {"meta": meta, "steady": steady, "live": live_result, "saturation": sat}
    markdown = render(result)
    print()
    print(markdown)
    Path(args.results).write_text(json.dumps(result, indent=2))
    Path(args.results).with_suffix(".md").write_text(markdown + "\n")
    for message in steady["error_samples"][:10] + live_result["errors"][:5]:
        print(f"  error: {message}")
    errors = steady["total"]["errors"] + len(live_result["errors"])
    p95 = steady["total"]["p95_ms"] or 0.0
    verdict = 0
    if errors:
        print(f"FAIL: {errors} errors (server logs: {log_path}, {live_log})")
        verdict = 1
    if p95 >= P95_BUDGET_MS:
        print(f"FAIL: p95 {p95:.0f} ms, the budget is under {P95_BUDGET_MS:.0f} ms")
        verdict = 1
    if not verdict:
        print(f"PASS: no errors, p95 {p95:.0f} ms under {P95_BUDGET_MS:.0f} ms")
    return 0 if args.no_fail else verdict


def configured(worker_class: str = "", workers: int | None = None, threads: int | None = None) -> dict:
    """What gunicorn.conf.py makes of these overrides (empty: its defaults) on this process's CPUs."""
    overrides = {
        "GUNICORN_WORKER_CLASS": worker_class,
        "WEB_CONCURRENCY": str(workers or ""),
        "GUNICORN_THREADS": str(threads or ""),
    }
    saved = {name: os.environ.get(name) for name in overrides}
    namespace: dict = {}
    try:
        os.environ.update(overrides)
        exec(compile((ROOT / "gunicorn.conf.py").read_text(), "gunicorn.conf.py", "exec"), namespace)  # noqa: S102
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return {"worker_class": namespace["WORKER_CLASS"], "workers": namespace["workers"], "threads": namespace["threads"]}


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
