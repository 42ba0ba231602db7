"""Integration fixtures: the real PostgreSQL test database, a real Redis broker and a real
Celery worker process (not eager mode). Skipped locally without the services; failing in CI."""

import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from pmhub.celery import app as celery_app
from tests.services import celery_pools_reset, on_postgres, redis_available, require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def services_ready():
    require(on_postgres(), "PostgreSQL (DATABASE_URL=postgres://...)")
    require(redis_available(), "Redis (REDIS_URL=redis://...)")


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


# `celery` as `python -m celery` runs it, except the interpreter's last garbage collection: once the
# worker has shut down (tasks finished, messages acked or left, connections closed, then atexit's
# handlers such as logging's flush), the process exits instead of spending 2-8 s collecting the
# modules of the whole project, which every test that stops a worker waited for (a gdb backtrace of a
# stopping worker: gc_collect_main under finalize_modules). The exit status is celery's.
#
# Before each task the worker forgets the content types it has read: between tests the test
# database is flushed and post_migrate creates the content types again under new ids, so a worker
# kept from one test to the next (SharedWorkers below) would otherwise write an activity entry with
# an id of the previous test's rows. A deployment never renumbers them under a running worker.
_CELERY_WITHOUT_FINAL_GC = """
import atexit, os, sys
sys.argv[0] = "celery"
from celery import signals


@signals.task_prerun.connect(weak=False)
def _fresh_content_types(**kwargs):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


from celery.__main__ import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
if code is not None and not isinstance(code, int):
    print(code, file=sys.stderr)
    code = 1
atexit._run_exitfuncs()
sys.stdout.flush()
sys.stderr.flush()
os._exit(code or 0)
"""

_RENDERED_SCHEMA: dict = {}


def _share_rendered_schema() -> None:
    """A booting worker queues `api_schema_warm` to itself (pmhub/celery.py, decision 1421): with an
    empty shared cache its solo pool spends 3-11 s rendering the API document before the test's first
    task, or keeps the test waiting that long at stop. Every test starts with an empty cache
    (`_isolated`), so each worker of each test paid it. Here the shared cache holds the document
    as a worker that booted earlier would have left it (rendered once per test process), and the
    worker's warm-up still runs, as the cache hit a second worker of a deployment gets."""
    from django.core.cache import cache

    from pmhub.api import schema_view

    if not hasattr(schema_view, "_RENDERED"):
        return  # the view keeps its rendered copies elsewhere now: the worker renders, as before
    if not _RENDERED_SCHEMA:
        schema_view._RENDERED.clear()  # render here, so the entries are read back from this process
        schema_view.schema_warm()
        _RENDERED_SCHEMA.update({"api-schema:" + ":".join(str(k) for k in key): entry
                                 for key, entry in schema_view._RENDERED.items()})
    cache.set_many(_RENDERED_SCHEMA, schema_view.CACHE_SECONDS)


class WorkerProcess:
    """A `celery worker` subprocess on its own queue and its own broker keys, against the test
    database. Publish to it inside `publishing_to(worker)`."""

    def __init__(self, tmp_path: Path, extra_env: dict | None = None):
        self.queue = f"pmhub-test-{uuid.uuid4().hex[:8]}"
        # Every broker key of this worker starts with it (kombu's global_keyprefix): its queue, and
        # the `unacked` hash, index and restore lock, which kombu otherwise shares across all queues
        # of the Redis database. A message or lock left there by an earlier test (or by another
        # checkout on the same Redis) is then neither restored by this worker nor able to make it
        # skip its restore scan; and a short visibility timeout here restores no one else's work.
        self.key_prefix = f"{self.queue}:"
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.log_path = tmp_path / "worker.log"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None
        self.mark = 0  # output() starts here: where the current test began (SharedWorkers)

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_QUEUE=self.queue,
            CELERY_BROKER_KEY_PREFIX=self.key_prefix,
            # Look for a dead worker's unacked messages every second (kombu's default is every
            # 100 s after the scan at start, which can come before the visibility timeout is up).
            CELERY_UNACKED_RESTORE_INTERVAL="1",
            CELERY_UNACKED_RESTORE_THROTTLE="1",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            DJANGO_SETTINGS_MODULE="pmhub.settings",
        )
        env.update(self.extra_env)
        return env

    def start(self):
        _share_rendered_schema()
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _CELERY_WITHOUT_FINAL_GC, "-A", "pmhub", "worker", "--pool=solo", "-c", "1",
             "-Q", self.queue, "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.wait_for_log("ready", timeout=60)
        return self

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text(errors="replace"):
                return
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker never logged {text!r}:\n{self.log_path.read_text(errors='replace')[-4000:]}")

    def kill(self):
        """kill -9: the worker dies without acking its current message."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if getattr(self, "log", None):
            self.log.close()

    def output(self) -> str:
        """The worker's log since the current test began (all of it for a worker of one test)."""
        with open(self.log_path, "rb") as log:
            log.seek(self.mark)
            return log.read().decode(errors="replace")

    def pending(self) -> int:
        """Messages of this worker's queue not yet done: waiting in the queue, or delivered and not
        acked (tasks run with acks_late, so that is a task running, prefetched or held for its ETA)."""
        import redis

        client = redis.Redis.from_url(self.env()["REDIS_URL"])
        try:
            return client.llen(self.key_prefix + self.queue) + client.hlen(self.key_prefix + "unacked")
        finally:
            client.close()

    def broker_keys(self) -> list[str]:
        import redis

        client = redis.Redis.from_url(self.env()["REDIS_URL"])
        try:
            return sorted(k.decode() for k in client.scan_iter(match=f"{self.key_prefix}*"))
        finally:
            client.close()

    def delete_broker_keys(self) -> None:
        """Remove what this worker left in Redis (only keys under its own prefix)."""
        import redis

        client = redis.Redis.from_url(self.env()["REDIS_URL"])
        try:
            keys = list(client.scan_iter(match=f"{self.key_prefix}*"))
            if keys:
                client.delete(*keys)
        except redis.ConnectionError:
            pass  # a private Redis the test has already stopped
        finally:
            client.close()


@contextmanager
def publishing_to(worker: WorkerProcess, *, broker_url: str | None = None, delete_keys: bool = True):
    """The in-process Celery app sends tasks to `worker`: its queue, under its key prefix (fresh
    connection pools), not eagerly. Everything is put back, and the worker's keys deleted (unless
    the worker goes on to another test: SharedWorkers), on exit."""
    conf = celery_app.conf
    saved = {key: conf[key] for key in
             ("broker_url", "broker_transport_options", "task_default_queue", "task_always_eager")}
    celery_pools_reset(close=False)
    conf.broker_transport_options = {**saved["broker_transport_options"], "global_keyprefix": worker.key_prefix}
    if broker_url:
        conf.broker_url = broker_url
    conf.task_default_queue = worker.queue
    conf.task_always_eager = False
    try:
        yield worker
    finally:
        celery_pools_reset(close=True)
        for key, value in saved.items():
            conf[key] = value
        if delete_keys:
            worker.delete_broker_keys()


class SharedWorkers:
    """Real worker processes kept by one test process from one test to the next, one per
    environment, instead of one booted and stopped per test (2-4 s idle, 5-25 s under load;
    docs/decisions/2030). Still a real `celery worker` on the real Redis broker against the test
    database; what a test could otherwise inherit from an earlier one is taken away:

    - a worker is handed on only when it is idle with nothing pending: its queue empty and nothing
      delivered and unacked (tasks run with acks_late: a running, prefetched or ETA-held task is
      unacked). Otherwise (a retry waiting for its countdown, a task still running, a dead worker)
      it is stopped and its broker keys deleted at the end of the test, as a worker of one test
      is, and the next test boots a new one. The check runs in the test's teardown, before the
      database is flushed;
    - the log (`output()`) and the mail directory a test sees start empty at its start;
    - the worker's process-level state: settings (the same environment for every test that shares
      it), caches (the shared cache is cleared before and after every test, `_isolated`), and the
      content types (read afresh before each task, see _CELERY_WITHOUT_FINAL_GC).
    Tests that kill, restart or reconfigure a worker (faults, private Redis, visibility timeouts)
    start their own WorkerProcess as before."""

    def __init__(self, root: Path):
        self.root = root
        self.workers: dict[tuple, WorkerProcess] = {}

    @contextmanager
    def lend(self, extra_env: dict | None = None):
        key = tuple(sorted((extra_env or {}).items()))
        worker = self.workers.pop(key, None)
        if worker is not None and (worker.proc is None or worker.proc.poll() is not None or worker.pending()):
            self._retire(worker)
            worker = None
        fresh = worker is None
        if fresh:
            home = self.root / uuid.uuid4().hex[:8]
            home.mkdir()
            worker = WorkerProcess(home, extra_env=extra_env)
        for message in worker.mail_dir.iterdir():
            message.unlink()
        worker.mark = worker.log_path.stat().st_size if worker.log_path.exists() else 0
        with publishing_to(worker, delete_keys=False):
            if fresh:
                worker.start()
            try:
                yield worker
            finally:
                if self._idle(worker):
                    self.workers[key] = worker
                else:
                    self._retire(worker)

    @staticmethod
    def _idle(worker: WorkerProcess, wait: float = 2.0) -> bool:
        """Nothing queued or unacked twice in a row 0.2 s apart (a message is taken from the queue
        and recorded as unacked in one step of kombu's, not atomically), within `wait` seconds."""
        deadline = time.monotonic() + wait
        quiet = 0
        while time.monotonic() < deadline:
            if worker.proc is None or worker.proc.poll() is not None:
                return False
            quiet = quiet + 1 if worker.pending() == 0 else 0
            if quiet == 2:
                return True
            time.sleep(0.2)
        return False

    @staticmethod
    def _retire(worker: WorkerProcess) -> None:
        worker.stop()
        worker.delete_broker_keys()

    def close(self) -> None:
        for worker in self.workers.values():
            self._retire(worker)
        self.workers.clear()


@pytest.fixture(scope="session")
def shared_workers(tmp_path_factory):
    pool = SharedWorkers(tmp_path_factory.mktemp("workers"))
    yield pool
    pool.close()


@pytest.fixture
def celery_worker_process(services_ready, transactional_db, shared_workers):
    """A real worker (SharedWorkers); tasks sent by the test go to its queue through Redis."""
    with shared_workers.lend() as worker:
        yield worker


@pytest.fixture
def worker(services_ready, transactional_db, shared_workers, fake):
    """A real worker allowed to reach the module's fake provider on 127.0.0.1 (the Jira, Data Center
    and GitHub sync tests; each module defines `fake`)."""
    with shared_workers.lend({"OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"}) as process:
        yield process


def wait_for(predicate, worker, what, timeout=60):
    """wait_until with the worker's log in the message when it times out."""
    return wait_until(
        predicate, timeout=timeout, interval=0.05, message=lambda: f"{what}; worker log:\n" + worker.output()[-3000:]
    )


def settled(worker, at_most: float = 10.0) -> None:
    """Before asserting that nothing more happened: wait until the worker has done everything sent
    to it (nothing queued or unacked in two looks 0.2 s apart, SharedWorkers._idle), at most
    `at_most` seconds. A fixed one-second sleep was shorter than a loaded worker may need and longer
    than an idle one does (docs/decisions/2331); a task held for a later ETA counts as not done, so
    the wait then lasts `at_most` seconds, never less than the sleep it replaces."""
    SharedWorkers._idle(worker, wait=at_most)


def wait_until(predicate, timeout: float = 30, interval: float = 0.2, message="condition"):
    """Poll until predicate() is truthy. `message` may be a callable (evaluated on failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message() if callable(message) else message}")
