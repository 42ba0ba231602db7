"""The foundation's real task, sent through Redis and run by a real worker process."""

import pytest

from pmhub import services
from pmhub.models import Role
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.services import on_postgres

from .conftest import wait_until

pytestmark = pytest.mark.integration


def test_suite_runs_on_postgresql_in_ci(services_ready, db):
    from django.db import connection

    assert on_postgres()
    with connection.cursor() as cursor:
        cursor.execute("select version()")
        assert "PostgreSQL" in cursor.fetchone()[0]


def test_invitation_email_is_sent_by_a_real_worker_through_redis(celery_worker_process):
    workspace = WorkspaceFactory()
    admin = UserFactory()
    MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)

    services.invitation_create(user=admin, workspace=workspace, email="new@example.com", role=Role.EDITOR)

    mail_dir = celery_worker_process.mail_dir
    files = wait_until(lambda: list(mail_dir.iterdir()), timeout=60,
                       message=lambda: "the e-mail; worker log:\n" + celery_worker_process.output()[-3000:])
    body = files[0].read_text()
    assert "new@example.com" in body
    assert f"invited you to the workspace \"{workspace.name}\"" in body
    assert "send_invitation_email" in celery_worker_process.output()
