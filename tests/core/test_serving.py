"""The serving configuration (issue 23, target 7): gunicorn.conf.py as gunicorn itself reads it, a
real gunicorn started with it, and the database settings for persistent connections and pgbouncer.
Each runs in a subprocess with its own environment (decisions 1940, 1941)."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
SERVING_NAMES = (
    "GUNICORN_WORKER_CLASS",
    "WEB_CONCURRENCY",
    "GUNICORN_THREADS",
    "GUNICORN_TIMEOUT",
    "FORWARDED_ALLOW_IPS",
    "GUNICORN_ACCESS_LOG",
    "CONN_MAX_AGE",
    "DISABLE_SERVER_SIDE_CURSORS",
    "PG_OPTIONS",
    "DATABASE_REPLICA_URL",
)


def _env(**values):
    env = {k: v for k, v in os.environ.items() if k not in SERVING_NAMES}
    env.pop("REDIS_URL", None)
    env.update(values)
    return env


# What gunicorn makes of the file: its own Config and loader, not our reading of it.
READ_CONFIG = """
import json
from gunicorn.app.base import Application

class App(Application):
    def init(self, parser, opts, args):
        return None
    def load(self):
        return None

app = App()
app.load_config_from_file("gunicorn.conf.py")
c = app.cfg
print(json.dumps({"wsgi_app": c.wsgi_app, "worker_class": c.worker_class_str, "workers": c.workers,
                  "threads": c.threads, "timeout": c.timeout, "graceful_timeout": c.graceful_timeout,
                  "max_requests": c.max_requests, "max_requests_jitter": c.max_requests_jitter,
                  "keepalive": c.keepalive, "forwarded_allow_ips": c.forwarded_allow_ips,
                  "post_worker_init": c.post_worker_init.__name__}))
"""


def gunicorn_config(cpus: str | None = None, **env) -> dict:
    args = [sys.executable, "-c", READ_CONFIG]
    if cpus:
        args = ["taskset", "-c", cpus, *args]
    result = subprocess.run(args, env=_env(**env), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_gunicorn_runs_gthread_workers_from_the_cpus_it_may_use():
    if not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs taskset and two CPUs")
    one, two = gunicorn_config(cpus="0"), gunicorn_config(cpus="0,1")
    assert (one["workers"], two["workers"]) == (2, 3)  # CPUs + 1, from the affinity, not the host
    assert two["worker_class"] == "gthread" and two["threads"] == 4
    assert two["wsgi_app"] == "pmhub.wsgi:application"
    assert (two["timeout"], two["graceful_timeout"]) == (30, 30)
    assert (two["max_requests"], two["max_requests_jitter"]) == (20000, 2000)
    assert two["keepalive"] == 75  # longer than nginx's 60 s upstream keep-alive
    assert two["forwarded_allow_ips"] == ["127.0.0.1"]


def test_a_worker_freezes_what_it_loaded_and_collects_the_young_generation_less_often():
    """gunicorn's post_worker_init hook from gunicorn.conf.py, run as gunicorn runs it in a new worker
    (decision 1973)."""
    script = READ_CONFIG.split("c = app.cfg")[0] + (
        "import gc\n"
        "before = gc.get_freeze_count()\n"
        "app.cfg.post_worker_init(None)\n"
        "print(json.dumps({'threshold': gc.get_threshold(), 'frozen': gc.get_freeze_count() - before}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=_env(), cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["threshold"] == [10_000, 10, 10]
    assert state["frozen"] > 1000  # the modules and objects loaded so far are out of every collection


def test_gunicorn_settings_come_from_the_environment():
    sync = gunicorn_config(GUNICORN_WORKER_CLASS="sync", GUNICORN_TIMEOUT="45", FORWARDED_ALLOW_IPS="*")
    cpus = len(os.sched_getaffinity(0))
    assert (sync["worker_class"], sync["workers"], sync["threads"]) == ("sync", 2 * cpus + 1, 1)
    assert sync["timeout"] == 45 and sync["forwarded_allow_ips"] == ["*"]
    custom = gunicorn_config(WEB_CONCURRENCY="7", GUNICORN_THREADS="8")
    assert (custom["workers"], custom["threads"]) == (7, 8)
    uvicorn = gunicorn_config(GUNICORN_WORKER_CLASS="uvicorn")
    assert uvicorn["wsgi_app"] == "pmhub.asgi:application"
    assert uvicorn["worker_class"] == "uvicorn.workers.UvicornWorker"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_gunicorn_with_the_file_serves_and_keeps_connections_alive(tmp_path):
    """`gunicorn pmhub.wsgi` from the repository root picks the file up by itself (no -c): two
    requests travel on one connection (gthread keep-alive; a sync worker closes after each)."""
    port = _free_port()
    env = _env(
        DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="2",
        GUNICORN_ACCESS_LOG="",
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    proc = subprocess.Popen(
        [GUNICORN, "pmhub.wsgi", "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        conn, deadline = None, time.monotonic() + 180  # slow on a busy machine
        while conn is None:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/healthz")
            except OSError:
                conn = None
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
                time.sleep(0.3)
        first = conn.getresponse()
        first.read()
        local = conn.sock.getsockname()
        conn.request("GET", "/healthz")
        second = conn.getresponse()
        second.read()
        assert (first.status, second.status) == (200, 200)
        assert not first.will_close and conn.sock.getsockname() == local  # the same connection
        conn.close()
    finally:
        proc.terminate()
        proc.wait(30)
    assert "gthread" in (tmp_path / "gunicorn.log").read_text()  # the file's worker class was used


DATABASES = (
    "import django, json; django.setup(); from django.conf import settings; print(json.dumps(settings.DATABASES))"
)


def _databases(**env) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", DATABASES],
        env=_env(DJANGO_SETTINGS_MODULE="pmhub.settings", DEBUG="true", **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_persistent_connections_are_health_checked_and_pgbouncer_ready():
    url = "postgres://u:p@db:5432/pmhub"
    default = _databases(DATABASE_URL=url)["default"]
    assert default["CONN_MAX_AGE"] == 60 and default["CONN_HEALTH_CHECKS"] is True
    assert default["ENGINE"] == "pmhub.backends.postgresql"  # the check that sends nothing (2302)
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is False and default["OPTIONS"]["options"] == "-c jit=off"

    pooled = _databases(
        DATABASE_URL=url.replace("db:5432", "pgbouncer:5432"),
        DISABLE_SERVER_SIDE_CURSORS="true",
        PG_OPTIONS="",
        DATABASE_REPLICA_URL="postgres://u:p@replica-pool:5432/pmhub",
    )
    for alias in ("default", "replica"):
        assert pooled[alias]["DISABLE_SERVER_SIDE_CURSORS"] is True, alias
        assert pooled[alias]["CONN_HEALTH_CHECKS"] is True, alias
        assert pooled[alias]["ENGINE"] == "pmhub.backends.postgresql", alias
        assert "options" not in pooled[alias]["OPTIONS"], alias  # pgbouncer refuses startup options


# --- through a real pgbouncer in transaction mode (docker-compose.yml's pooler) -----------------
THROUGH_POOLER = """
import django
django.setup()
from django.conf import settings
from django.db import connection, transaction
from pmhub.models import Workspace

assert settings.DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
names = [w.slug for w in Workspace.objects.order_by("id").iterator(chunk_size=2)]  # no named cursor
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute("SELECT pg_advisory_xact_lock(42)")  # transaction-scoped: kept by the pooler
    cursor.execute("SET LOCAL work_mem = '64MB'")
    cursor.execute("SHOW work_mem")
    local = cursor.fetchone()[0]
connection.close_if_unusable_or_obsolete()  # CONN_HEALTH_CHECKS: the persistent connection is reused
with connection.cursor() as cursor:
    cursor.execute("SHOW TimeZone")
    zone = cursor.fetchone()[0]
print(f"{local}|{zone}|{len(names)}")
"""


def _pgbouncer(tmp_path, database: dict, port: int) -> subprocess.Popen:
    tmp_path.chmod(0o777)
    ini = tmp_path / "pgbouncer.ini"
    host = database.get("HOST") or "127.0.0.1"
    ini.write_text(
        "[databases]\n"
        f"* = host={host} port={database.get('PORT') or 5432} user={database['USER']}"
        + (f" password={database['PASSWORD']}" if database.get("PASSWORD") else "")
        + "\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = any\npool_mode = transaction\n"
        f"default_pool_size = 2\nserver_reset_query = DISCARD ALL\nunix_socket_dir =\n"
        "logfile =\n"  # stderr (the test directory is not readable by the postgres user)
    )
    ini.chmod(0o644)
    args = [shutil.which("pgbouncer") or "/usr/sbin/pgbouncer", str(ini)]
    if os.geteuid() == 0:
        args.insert(1, "-u")
        args.insert(2, "postgres")  # pgbouncer refuses to run as root
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        assert proc.poll() is None, proc.stdout.read().decode()
        time.sleep(0.1)
    proc.kill()
    pytest.fail("pgbouncer did not listen")


def test_the_app_runs_through_pgbouncer_in_transaction_mode(tmp_path, db):
    from tests.services import on_postgres, require

    require(on_postgres(), "PostgreSQL")
    if not (shutil.which("pgbouncer") or Path("/usr/sbin/pgbouncer").exists()):
        pytest.skip("needs pgbouncer (apt-get install pgbouncer)")
    from django.db import connection

    database = connection.settings_dict  # the test database
    port = _free_port()
    proc = _pgbouncer(tmp_path, database, port)
    url = f"postgres://{database['USER']}@127.0.0.1:{port}/{database['NAME']}"
    base = {"DJANGO_SETTINGS_MODULE": "pmhub.settings", "DEBUG": "true", "DATABASE_URL": url}
    try:
        # As docker-compose.yml runs the app: no startup options, no server-side cursors.
        ok = subprocess.run(
            [sys.executable, "-c", THROUGH_POOLER],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(**base, PG_OPTIONS="", DISABLE_SERVER_SIDE_CURSORS="true"),
        )
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip().split("|")[0] == "64MB"
        # With the default startup options the pooler refuses the connection: why compose empties PG_OPTIONS.
        refused = subprocess.run(
            [sys.executable, "-c", THROUGH_POOLER],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(**base, DISABLE_SERVER_SIDE_CURSORS="true"),
        )
        assert refused.returncode != 0 and "unsupported startup parameter" in refused.stderr
    finally:
        proc.terminate()
        proc.wait(10)
