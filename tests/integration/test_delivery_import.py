"""A confirmed import runs in a real Celery worker through Redis, in batches, with progress."""

import time

import pytest

from backlog.models import Story
from delivery import services
from delivery.models import ImportJob
from pmhub.models import BackgroundJob, Role
from tests.delivery.factories import ProductFactory
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory

from .conftest import wait_until

pytestmark = pytest.mark.integration

ROWS = 10_000


def test_ten_thousand_row_import_runs_in_the_worker_in_batches(celery_worker_process):
    workspace = WorkspaceFactory()
    editor = UserFactory(email="importer@example.com")
    MembershipFactory(user=editor, workspace=workspace, role=Role.EDITOR)
    product = ProductFactory(workspace=workspace)
    lines = ["Summary,Issue key,Status,Custom field (Story Points),Labels,Labels,Epic Link,Assignee,Description"]
    for i in range(ROWS):
        lines.append(f'Story {i},BIG-{i},In Progress,{i % 8},ops,team{i % 5},Epic {i % 10},importer@example.com,'
                     f'"Line one\nline two of {i}"')
    job = services.import_upload(actor=editor, product=product, filename="big.csv",
                                 data="\n".join(lines).encode("utf-8-sig"))
    preview = services.import_preview(actor=editor, job=job)
    assert preview["valid_rows"] == ROWS and preview["error_rows"] == 0
    assert not Story.objects.filter(product=product).exists()

    started = time.monotonic()
    services.import_confirm(actor=editor, job=job)  # sent on commit (transactional test: now)
    wait_until(lambda: ImportJob.objects.get(pk=job.pk).status in ("done", "failed"), timeout=240,
               message=lambda: "the import; worker log:\n" + celery_worker_process.output()[-3000:])
    elapsed = time.monotonic() - started
    job.refresh_from_db()
    assert job.status == "done" and job.created_count == ROWS
    assert Story.objects.filter(product=product).count() == ROWS
    background = BackgroundJob.objects.get(pk=job.job_id)
    assert background.status == "done" and background.progress == ROWS
    assert "import_run" in celery_worker_process.output()
    print(f"\n10,000-row import in the worker: {elapsed:.1f} s")  # reported, not asserted
