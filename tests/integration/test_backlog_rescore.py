"""Changing the scoring model re-scores the backlog in a real Celery worker, with progress."""

from decimal import Decimal

import pytest

from backlog import services
from backlog.models import Story
from pmhub.models import BackgroundJob, Membership, Role, User, Workspace
from roadmaps.models import Product

from .conftest import wait_until

pytestmark = pytest.mark.integration


def test_model_change_rescores_in_the_worker(celery_worker_process):
    ws = Workspace.objects.create(name="Acme", slug="acme")
    pm = User.objects.create(email="pm@acme.test")
    Membership.objects.create(user=pm, workspace=ws, role=Role.EDITOR)
    product = Product.objects.create(workspace=ws, name="P")
    inputs = {"reach": 10, "impact": 1, "confidence": 100, "effort": 5, "value": 20}
    services.stories_bulk_create(actor=pm, product=product,
                                 stories=[{"title": f"S{i}", "score_inputs": inputs} for i in range(2500)])
    assert set(Story.objects.values_list("score", flat=True)) == {Decimal("2")}  # RICE 10 x 1 x 1 / 5
    _, job = services.scoring_model_update(actor=pm, product=product, framework="value_effort")
    wait_until(lambda: BackgroundJob.objects.get(id=job.id).status == "done", timeout=60,
               message=lambda: celery_worker_process.output()[-2000:])
    job = BackgroundJob.objects.get(id=job.id)
    assert job.progress == job.total == 2500 and job.result == {"rescored": 2500}
    assert set(Story.objects.values_list("score", flat=True)) == {Decimal("4")}  # value 20 / effort 5
    assert Story.objects.filter(score__isnull=True).count() == 0
