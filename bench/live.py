"""`make bench-live`: live updates at scale. N websocket clients (1,000 by default) on ONE server
process; the broadcast latency from commit to delivery; the server's memory per connection.

    .venv/bin/python -m bench.live                        # 1,000 clients, 20 changes
    .venv/bin/python -m bench.live --clients 200 --events 10

It recreates its own database (`<name>_live_bench` from DATABASE_URL, or bench/live.sqlite3;
never yours), needs Redis (REDIS_URL: the channel layer that carries an event from the process
that commits it to the one holding the sockets), starts one `uvicorn pmhub.asgi` process (pinned
to two cores with taskset when there is one) and connects the clients from this process (the
`websockets` library, one asyncio loop), each signed in with a session of a workspace member and
subscribed to the workspace. Then it saves a story N times, one change every --interval seconds,
from a thread of this process through the real service (so each event goes out after its
transaction commits, through pmhub.live and the Redis channel layer), and records when each client
receives it. Latency = receipt time - the event's `at` (stamped in the on-commit hook, right after
COMMIT returned): that includes the Redis hop, the server's fan-out to every socket and this
process reading 1,000 sockets on one core, so it is an upper bound of what one page sees.

Memory per connection = (server RSS with all clients subscribed - RSS with one) / clients.
Exits non-zero when an event is lost (a client missing one) or p95 is over the two-second promise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PROMISE = 2.0  # seconds: another person's change shows within two seconds (issue 22)


def live_database_url(database_url: str | None) -> str:
    if not database_url or database_url.startswith("sqlite"):
        return f"sqlite:///{ROOT / 'bench' / 'live.sqlite3'}"
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/") or "pmhub"
    return urlunsplit(parts._replace(path=f"/{name}_live_bench"))


def percentile(values: list[float], pct: float) -> float:
    """Nearest rank: the smallest value with at least pct % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(pct / 100 * len(ordered)) - 1))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (a figure that other load on the machine does not inflate)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed() -> dict:
    from importlib import import_module

    from django.conf import settings

    from backlog import services as backlog
    from pmhub.models import Membership, Role, User, Workspace
    from roadmaps.models import Product

    ws = Workspace.objects.create(name="Live bench", slug="live-bench")
    user = User.objects.create_user(email="viewer@live.bench", password=secrets.token_urlsafe(16), name="Vera Viewer")
    editor = User.objects.create_user(email="editor@live.bench", password=secrets.token_urlsafe(16), name="Ed Editor")
    Membership.objects.create(user=user, workspace=ws, role=Role.VIEWER)
    Membership.objects.create(user=editor, workspace=ws, role=Role.EDITOR)
    product = Product.objects.create(workspace=ws, name="Live")
    story = backlog.story_create(actor=editor, product=product, title="Watched story")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = settings.AUTHENTICATION_BACKENDS[0]
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.create()
    return {"workspace": ws.id, "story": story.id, "editor": editor.id,
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}


def start_server(url: str, port: int, log_path: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false",
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "DJANGO_SETTINGS_MODULE": "pmhub.settings", "LOG_LEVEL": "WARNING"}
    args = [str(Path(sys.executable).parent / "uvicorn"), "pmhub.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--ws", "websockets-sansio", "--log-level", "warning", "--no-access-log",
            "--lifespan", "off", "--backlog", "4096", "--ws-per-message-deflate", "false"]
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        args = ["taskset", "-c", "0,1", *args]
    log = log_path.open("w")
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped (see {log_path})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"the server did not answer within 60 s (see {log_path})")


class Client:
    """One page: a websocket signed in with the session, subscribed to the workspace."""

    def __init__(self, index: int):
        self.index = index
        self.latencies: dict[int, float] = {}  # seq -> seconds from commit to receipt
        self.socket = None
        self.reader = None

    async def open(self, uri: str, origin: str, cookie: str, workspace: int):
        from websockets.asyncio.client import connect

        self.socket = await connect(uri, origin=origin, additional_headers={"Cookie": cookie},
                                    open_timeout=60, ping_interval=None, max_queue=None)
        await self.socket.send(json.dumps({"op": "subscribe", "workspace": workspace, "tab": f"bench-{self.index:06d}"}))
        answer = json.loads(await asyncio.wait_for(self.socket.recv(), 60))
        if answer.get("type") != "subscribed":
            raise RuntimeError(f"client {self.index}: {answer}")
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        async for raw in self.socket:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "event":
                event = message["event"]
                self.latencies[event["seq"]] = now - event["at"]

    async def close(self):
        if self.reader:
            self.reader.cancel()
        if self.socket:
            await self.socket.close()


def save_story(story_id: int, editor_id: int, n: int) -> None:
    """A real save through the service: the event goes out after this transaction commits."""
    from backlog import services as backlog
    from backlog.models import Story
    from pmhub.models import User

    story = Story.objects.get(pk=story_id)
    backlog.story_update(actor=User.objects.get(pk=editor_id), story=story, data={"title": f"Change {n}"},
                         version=story.version)


async def run(args, data: dict, port: int, server_pid: int) -> dict:
    uri, origin = f"ws://127.0.0.1:{port}/ws/live/", f"http://127.0.0.1:{port}"
    warm = Client(-1)
    await warm.open(uri, origin, data["cookie"], data["workspace"])
    await asyncio.sleep(0.5)
    rss_one = rss_kib(server_pid)
    clients = [Client(i) for i in range(args.clients)]
    started = time.perf_counter()
    for first in range(0, len(clients), 100):  # 100 handshakes at a time, as a crowd arriving
        await asyncio.gather(*(c.open(uri, origin, data["cookie"], data["workspace"]) for c in clients[first:first + 100]))
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_all = rss_kib(server_pid)

    lock = threading.Lock()  # one Django thread for the saves

    def save(n):
        with lock:
            save_story(data["story"], data["editor"], n)

    cpu_before = cpu_seconds(server_pid)
    for n in range(args.events):
        await asyncio.to_thread(save, n)
        await asyncio.sleep(args.interval)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(len(c.latencies) < args.events for c in clients):
        await asyncio.sleep(0.1)
    cpu_per_event = (cpu_seconds(server_pid) - cpu_before) / args.events
    latencies = [v for c in clients for v in c.latencies.values()]
    missing = sum(args.events - len(c.latencies) for c in clients)
    for c in [warm, *clients]:
        await c.close()
    return {"clients": args.clients, "events": args.events, "deliveries": len(latencies), "missing": missing,
            "connect_seconds": connect_seconds, "rss_one_kib": rss_one, "rss_all_kib": rss_all,
            "per_connection_kib": (rss_all - rss_one) / args.clients,
            "server_cpu_ms_per_event": cpu_per_event * 1000, "load_average": os.getloadavg()[0],
            "p50_ms": percentile(latencies, 50) * 1000 if latencies else None,
            "p95_ms": percentile(latencies, 95) * 1000 if latencies else None,
            "max_ms": max(latencies) * 1000 if latencies else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two saves")
    args = parser.parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        print("bench.live needs Redis: set REDIS_URL (the channel layer between the saving process and the server).")
        return 2

    from bench.generate import migrate, recreate_database, setup_django
    from bench.harness import Timer

    # One key for this process and the server: the session this process signs must verify there.
    os.environ["SECRET_KEY"] = "live-bench-" + secrets.token_urlsafe(40)
    url = live_database_url(os.environ.get("DATABASE_URL"))
    print(f"Recreating the live bench database {url.rsplit('@', 1)[-1]} (your data is not touched) ...", flush=True)
    recreate_database(url)
    setup_django(url)
    migrate(Timer())
    data = seed()
    from django.db import connections

    connections.close_all()
    port = free_port()
    log_path = ROOT / "bench" / "live-server.log"
    server = start_server(url, port, log_path)
    try:
        result = asyncio.run(run(args, data, port, server.pid))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    def ms(value):
        return "-" if value is None else f"{value:.0f}"

    ok = result["missing"] == 0 and result["p95_ms"] is not None and result["p95_ms"] <= PROMISE * 1000
    print(f"""
Live updates, one server process (uvicorn, {'2 cores' if shutil.which('taskset') else 'all cores'}), Redis channel layer
  clients connected and subscribed   {result['clients']:>8,}   in {result['connect_seconds']:.1f} s
  changes saved                      {result['events']:>8,}   one every {args.interval:.2f} s
  deliveries                         {result['deliveries']:>8,}   missing {result['missing']}
  commit -> delivery p50             {ms(result['p50_ms']):>8} ms
  commit -> delivery p95             {ms(result['p95_ms']):>8} ms   (promise: {PROMISE * 1000:.0f} ms)
  commit -> delivery max             {ms(result['max_ms']):>8} ms
  server RSS, one client             {result['rss_one_kib'] / 1024:>8.1f} MiB
  server RSS, all clients            {result['rss_all_kib'] / 1024:>8.1f} MiB
  memory per connection              {result['per_connection_kib']:>8.1f} KiB
  server CPU per broadcast           {result['server_cpu_ms_per_event']:>8.0f} ms   (to all {result['clients']:,} sockets)
  machine load average (1 min)       {result['load_average']:>8.1f}   on {os.cpu_count()} cores
{'OK' if ok else 'FAILED'}""", flush=True)
    (ROOT / "bench" / "live-results.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
