"""Jira sync at scale, against the fake Jira (tests/integrations/fake_jira.py: a real HTTP server on
127.0.0.1 that checks every exchange against Atlassian's published OpenAPI description).

    .venv/bin/python -m bench.jira_sync                      # 20,000 issues, 10 changes/s each way for 60 s
    .venv/bin/python -m bench.jira_sync --issues 2000 --seconds 20 --rate 5

1. Initial link: the fake holds N issues of project ENG; PMHub previews the import (search/jql,
   nextPageToken paging, 100 a page) and runs it; then a re-run (it must create nothing).
2. Steady flow: for --seconds, --rate changes a second in each direction: a PMHub story edit
   (outbox -> worker -> PUT in Jira) and a Jira edit announced by a signed webhook (-> worker ->
   story). Lag = change to visible on the other side; p50 / p95 / max printed per direction.

The bench recreates its own database (`<name>_jirasync_bench`, from DATABASE_URL; PostgreSQL only)
and runs a real Celery worker when REDIS_URL is set (else tasks run in-process and the lag is the
processing time only, which the output says).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] if ordered else float("nan")


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench.jira_sync needs DATABASE_URL=postgres://... (it creates <name>_jirasync_bench)")
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{parts.path.lstrip('/') or 'pmhub'}_jirasync_bench"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=10.0, help="changes a second in each direction")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (prefork)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["OUTBOUND_ALLOWED_HOSTS"] = "127.0.0.1"
    # The worker refuses the public default key with DEBUG off; one key for both processes (the
    # sealed token and webhook secret open in the worker too).
    if not os.environ.get("SECRET_KEY"):
        import secrets

        os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    from bench.generate import recreate_database, setup_django

    url = _database_url()
    recreate_database(url)
    setup_django(url)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    return _run(args)


def _run(args) -> int:
    from django.test import Client

    from backlog import services as backlog
    from backlog.models import Story
    from integrations.jira import services, sync
    from integrations.jira.models import JiraDelivery, JiraIssueMap, JiraOutbox, JiraProjectLink
    from pmhub.models import Membership, Role, User, Workspace
    from pmhub.secretbox import unseal
    from roadmaps.models import Product
    from tests.integrations.fake_jira import FakeJira

    fake = FakeJira()
    workspace = Workspace.objects.create(name="Jira bench", slug="jira-bench", time_zone="UTC")
    admin = User.objects.create(email="bench@jira.test", name="Bench Admin")
    Membership.objects.create(user=admin, workspace=workspace, role=Role.ADMIN)
    product = Product.objects.create(workspace=workspace, name="Bench product")

    started = time.perf_counter()
    for n in range(args.issues):
        fake.create_issue(summary=f"Issue {n}", status_id=("10000", "3", "10002")[n % 3], points=n % 13,
                          labels=["bench"] if n % 2 else [])
    print(f"fake Jira: {args.issues:,} issues in {time.perf_counter() - started:.1f} s")

    connection, secret = services.connection_create(user=admin, workspace=workspace, kind="cloud",
                                                    name="Bench Jira", base_url=fake.url, email=fake.email,
                                                    token=fake.token)
    services.connection_check(connection.id)
    link = services.link_create(user=admin, connection=connection, product=product, project_key="ENG")
    services.link_discover(link.id)

    t0 = time.perf_counter()
    services.import_preview(link.id)
    preview = time.perf_counter() - t0
    link.refresh_from_db()
    counts = link.preview["counts"]
    JiraProjectLink.objects.filter(id=link.id).update(preview={**link.preview, "state": "importing"})
    t0 = time.perf_counter()
    services.import_run(link.id)  # timed here, not queued
    run = time.perf_counter() - t0
    pages = sum(1 for _, p in fake.requests if p.endswith("/search/jql"))
    t0 = time.perf_counter()
    services.import_preview(link.id)
    services.import_run(link.id)
    rerun = time.perf_counter() - t0
    stories = Story.objects.filter(product=product).count()
    print(f"\ninitial link of {args.issues:,} issues ({pages} search/jql pages in all)")
    print(f"  preview: {preview:6.1f} s   {counts}")
    print(f"  import:  {run:6.1f} s   {stories:,} stories, {JiraIssueMap.objects.count():,} mapping rows "
          f"({stories / run:,.0f} issues/s)")
    print(f"  re-run (preview + import): {rerun:.1f} s, stories after: {Story.objects.filter(product=product).count():,}"
          f" (must equal {stories:,})")
    assert Story.objects.filter(product=product).count() == stories == args.issues

    # --- steady flow, both ways ------------------------------------------------------------------
    worker = None
    if os.environ.get("REDIS_URL"):
        import subprocess

        from tests.integration.conftest import WorkerProcess, publishing_to

        class BenchWorker(WorkerProcess):
            """The tests' worker, with --concurrency processes (prefork) instead of one."""

            def start(self):
                self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "pmhub", "worker", "--pool=prefork", "-c",
                     str(args.concurrency), "-Q", self.queue, "-l", "info", "--without-gossip", "--without-mingle",
                     "--without-heartbeat"], cwd=Path(__file__).resolve().parents[1], env=self.env(),
                    stdout=self.log, stderr=subprocess.STDOUT)
                self.wait_for_log("ready", timeout=60)
                return self

        tmp = Path(tempfile.mkdtemp(prefix="jira-bench-"))
        worker = BenchWorker(tmp, extra_env={"OUTBOUND_ALLOWED_HOSTS": "127.0.0.1"})
        context = publishing_to(worker)
        context.__enter__()
        worker.start()
        worker.wait_for_log("api_schema_warm", timeout=60)
        deadline_warm = time.monotonic() + 60
        while "succeeded" not in "".join(line for line in worker.output().splitlines() if "api_schema_warm" in line):
            if time.monotonic() > deadline_warm:
                break
            time.sleep(0.2)
        mode = f"a real Celery worker ({args.concurrency} processes) through Redis"
    else:
        mode = "tasks in-process (no REDIS_URL): the lag is processing time only"
    client = Client()
    # Enough issues that no story is edited twice in the run (a second edit before the first is seen
    # would hide the first one's lag): half for PMHub's edits, half for Jira's.
    size = min(args.issues, max(200, 2 * int(args.rate * args.seconds) + 2))
    sample = list(JiraIssueMap.objects.filter(link=link).select_related("story").order_by("id")[:size])
    out_pending: dict[str, tuple[float, str]] = {}  # issue path -> (edit time, expected summary)
    in_pending: dict[int, tuple[float, str]] = {}  # story id -> (edit time, expected title)
    out_lags, in_lags = [], []
    lock = threading.Lock()
    done = threading.Event()

    def watch():
        seen = 0
        while not done.is_set() or out_pending or in_pending:
            log = fake.write_log[seen:]
            seen += len(log)
            now = time.monotonic()
            with lock:
                for at, method, path, body in log:
                    key = path.rsplit("/", 1)[-1]
                    summary = ((body or {}).get("fields") or {}).get("summary")
                    if method == "PUT" and key in out_pending and summary == out_pending[key][1]:
                        out_lags.append(at - out_pending.pop(key)[0])
                if in_pending:
                    titles = dict(Story.objects.filter(id__in=list(in_pending)).values_list("id", "title"))
                    for sid, (at, title) in list(in_pending.items()):
                        if titles.get(sid) == title:
                            in_lags.append(now - at)
                            del in_pending[sid]
            if done.is_set() and time.monotonic() > deadline + 60:
                break
            time.sleep(0.05)

    deadline = time.monotonic() + args.seconds
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    interval = 1.0 / args.rate
    counts = {"out": 0, "in": 0}

    def pmhub_edits():  # one thread per direction, each paced at --rate
        from django.db import connection as db

        n, next_at = 0, time.monotonic()
        while time.monotonic() < deadline:
            mapping = sample[n % (len(sample) // 2)]
            title = f"PMHub edit {n}"
            with lock:
                out_pending[mapping.remote_key] = (time.monotonic(), title)
            backlog.story_update(actor=admin, story=Story.objects.get(id=mapping.story_id), data={"title": title},
                                 version=None)
            n += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        counts["out"] = n
        db.close()

    def jira_edits():
        from django.db import connection as db

        n, next_at = 0, time.monotonic()
        half = len(sample) // 2
        while time.monotonic() < deadline:
            other = sample[half + n % half]
            summary = f"Jira edit {n}"
            fake.edit_issue(other.remote_id, summary=summary)
            with lock:
                in_pending[other.story_id] = (time.monotonic(), summary)
            body, headers = fake.webhook("jira:issue_updated", other.remote_id,
                                         secret=unseal(connection.secret_sealed))
            client.post(f"/integrations/jira/{connection.hook_token}/", body, content_type="application/json",
                        HTTP_X_HUB_SIGNATURE=headers["X-Hub-Signature"],
                        HTTP_X_ATLASSIAN_WEBHOOK_IDENTIFIER=headers["X-Atlassian-Webhook-Identifier"])
            n += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
        counts["in"] = n
        db.close()

    writers = [threading.Thread(target=pmhub_edits), threading.Thread(target=jira_edits)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    done.set()
    watcher.join(timeout=90)
    if worker:
        worker.stop()
        context.__exit__(None, None, None)
    print(f"\nsteady flow for {args.seconds:.0f} s at {args.rate:g} changes/s each way ({mode}): "
          f"{counts['out']} PMHub edits, {counts['in']} Jira edits")
    for name, lags in (("PMHub -> Jira", out_lags), ("Jira -> PMHub", in_lags)):
        if lags:
            print(f"  {name}: {len(lags)} seen, lag p50 {statistics.median(lags) * 1000:,.0f} ms, "
                  f"p95 {_percentile(lags, 0.95) * 1000:,.0f} ms, max {max(lags) * 1000:,.0f} ms")
        else:
            print(f"  {name}: nothing seen")
    left = (JiraOutbox.objects.filter(status="pending").count(),
            JiraDelivery.objects.filter(processed_at=None).count())
    print(f"  not yet applied at the end: {len(out_pending)} outbound, {len(in_pending)} inbound; "
          f"outbox pending {left[0]}, webhooks unprocessed {left[1]}")
    print(f"  OpenAPI violations seen by the fake: {len(fake.violations)}")
    print(f"  HTTP, whole run: {len(fake.requests):,} requests over {fake.connections:,} TCP connections "
          "(kept alive by the worker's clients, decision 1719)")
    fake.close()
    del sync
    return 0 if not fake.violations else 1


if __name__ == "__main__":
    raise SystemExit(main())
