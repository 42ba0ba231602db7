"""Integration fixtures: the real PostgreSQL test database, a real Redis broker and a real
Celery worker process (not eager mode). Skipped locally without the services; failing in CI."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from pmhub.celery import app as celery_app
from tests.services import on_postgres, redis_available, require

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


class WorkerProcess:
    """A `celery worker` subprocess on its own queue, against the test database."""

    def __init__(self, tmp_path: Path, extra_env: dict | None = None):
        self.queue = f"pmhub-test-{uuid.uuid4().hex[:8]}"
        self.tmp_path = tmp_path
        self.mail_dir = tmp_path / "mail"
        self.mail_dir.mkdir(exist_ok=True)
        self.log_path = tmp_path / "worker.log"
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=_database_url(),
            REDIS_URL=settings.REDIS_URL,
            CELERY_QUEUE=self.queue,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            DJANGO_SETTINGS_MODULE="pmhub.settings",
        )
        env.update(self.extra_env)
        return env

    def start(self):
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pmhub", "worker", "--pool=solo", "-c", "1",
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
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def celery_worker_process(services_ready, transactional_db, tmp_path):
    """Start a real worker; tasks sent by the test go to its queue through Redis."""
    worker = WorkerProcess(tmp_path)
    previous_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = worker.queue
    celery_app.conf.task_always_eager = False
    worker.start()
    yield worker
    celery_app.conf.task_always_eager = True
    worker.stop()
    celery_app.conf.task_default_queue = previous_queue


def wait_until(predicate, timeout: float = 30, interval: float = 0.2, message="condition"):
    """Poll until predicate() is truthy. `message` may be a callable (evaluated on failure)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message() if callable(message) else message}")
