"""The successful effect of governance writes: register items, the mediation log, the appetite,
and the owner's notifications (tests/core/test_service_success.py keeps the list)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from governance import services
from governance.models import IssueNote, ProductGovernance, Risk
from pmhub.errors import Conflict
from pmhub.models import Notification
from tests.effects import emitted, subscribe_all, verbs
from tests.metrics.factories import KpiFactory
from tests.roadmaps.factories import InitiativeFactory, ReleaseFactory

from .factories import RiskFactory, appetite

pytestmark = pytest.mark.django_db


def test_risk_create_scores_links_records_and_emits(product, admin, editor):
    subscribe_all(workspace=product.workspace, admin=admin)
    initiative = InitiativeFactory(product=product)
    release = ReleaseFactory(product=product)
    kpi = KpiFactory(product=product)
    risk = services.risk_create(user=editor, product=product, data={
        "title": "Vendor API sunset", "likelihood": 4, "impact": 5, "owner": editor,
        "initiatives": [initiative], "releases": [release], "kpis": [kpi], "review_date": date(2026, 7, 1)})
    risk = Risk.objects.get(pk=risk.pk)
    assert (risk.score, risk.kind, risk.created_by) == (20, "risk", editor)
    assert list(risk.initiatives.all()) == [initiative] and list(risk.kpis.all()) == [kpi]
    assert verbs(product.workspace)[-1] == "logged risk"
    assert emitted(product.workspace)[-1][0] == "governance.risk.created"
    assert emitted(product.workspace)[-1][1]["score"] == 20


def test_an_issue_is_certain_so_its_score_is_five_times_its_severity(product, editor):
    issue = services.risk_create(user=editor, product=product, data={"title": "Outage", "kind": "issue",
                                                                       "likelihood": 1, "impact": 3})
    assert (issue.likelihood, issue.score) == (5, 15)


def test_risk_create_refuses_a_link_to_another_products_initiative(product, editor, workspace):
    other = InitiativeFactory(product__workspace=workspace)
    with pytest.raises(ValidationError) as e:
        services.risk_create(user=editor, product=product, data={"title": "X", "initiatives": [other]})
    assert "initiatives" in e.value.error_dict
    assert not Risk.objects.exists()


def test_risk_update_rescores_bumps_version_and_names_the_change(product, editor):
    risk = RiskFactory(product=product, likelihood=2, impact=2)
    services.risk_update(user=editor, risk=risk, data={"likelihood": 5, "status": "mitigating"}, version=1)
    risk = Risk.objects.get(pk=risk.pk)
    assert (risk.score, risk.status, risk.version) == (10, "mitigating", 2)
    from pmhub.models import Activity

    line = Activity.objects.filter(workspace=product.workspace).latest("id")
    assert line.verb == "updated risk" and line.data == {"score": [4, 10], "status": ["open", "mitigating"]}


def test_risk_update_with_a_stale_version_is_a_conflict_and_changes_nothing(product, editor):
    risk = RiskFactory(product=product, title="Before")
    with pytest.raises(Conflict):
        services.risk_update(user=editor, risk=risk, data={"title": "After"}, version=7)
    assert Risk.objects.get(pk=risk.pk).title == "Before"


def test_risk_delete_removes_it_and_logs(product, editor):
    risk = RiskFactory(product=product)
    services.risk_delete(user=editor, risk=risk)
    assert not Risk.objects.filter(pk=risk.pk).exists()
    assert verbs(product.workspace)[-1] == "deleted risk"


def test_issue_note_add_keeps_who_and_when(product, admin, editor):
    subscribe_all(workspace=product.workspace, admin=admin)
    issue = RiskFactory(product=product, kind="issue", likelihood=5)
    note = services.issue_note_add(user=editor, risk=issue, text="Rolled back the release.")
    assert IssueNote.objects.get(pk=note.pk).author == editor and note.created_at is not None
    assert verbs(product.workspace)[-1] == "recorded a decision on"
    assert emitted(product.workspace)[-1][0] == "governance.issue.note_added"


def test_appetite_set_creates_then_versions_the_setting(product, admin):
    row = services.appetite_set(user=admin, product=product, appetite=9, version=None)
    assert ProductGovernance.objects.get(product=product).risk_appetite == 9
    services.appetite_set(user=admin, product=product, appetite=15, version=row.version)
    row.refresh_from_db()
    assert (row.risk_appetite, row.version) == (15, 2)
    with pytest.raises(Conflict):
        services.appetite_set(user=admin, product=product, appetite=5, version=1)


def test_appetite_set_refuses_outside_one_to_twenty_five(product, admin):
    with pytest.raises(ValidationError):
        services.appetite_set(user=admin, product=product, appetite=26, version=None)
    assert not ProductGovernance.objects.filter(product=product).exists()


def test_owner_is_notified_once_when_above_appetite_and_again_only_when_it_rises(product, admin, editor):
    subscribe_all(workspace=product.workspace, admin=admin)
    appetite(product, 12)
    risk = RiskFactory(product=product, likelihood=4, impact=4, owner=editor)  # 16 > 12
    assert services.risk_appetite_notify(risk_id=risk.id) is True
    assert services.risk_appetite_notify(risk_id=risk.id) is False  # same score: nobody told twice
    Risk.objects.filter(pk=risk.pk).update(impact=5, score=20)
    assert services.risk_appetite_notify(risk_id=risk.id) is True
    titles = list(Notification.objects.filter(recipient=editor, kind="risk").order_by("id").values_list("title", flat=True))
    assert len(titles) == 2 and "scores 20, above the appetite of 12" in titles[-1]
    assert emitted(product.workspace)[-1][0] == "governance.risk.above_appetite"


def test_a_risk_within_appetite_notifies_nobody(product, editor):
    risk = RiskFactory(product=product, likelihood=3, impact=4, owner=editor)  # 12, the appetite itself
    assert services.risk_appetite_notify(risk_id=risk.id) is False
    assert not Notification.objects.filter(kind="risk").exists()


def test_review_notify_tells_the_owner_once_per_review_date(product, editor):
    risk = RiskFactory(product=product, owner=editor, review_date=date(2026, 6, 9))
    assert services.risk_review_notify(risk_id=risk.id, today=date(2026, 6, 10)) is True
    assert services.risk_review_notify(risk_id=risk.id, today=date(2026, 6, 11)) is False
    Risk.objects.filter(pk=risk.pk).update(review_date=date(2026, 6, 20))
    assert services.risk_review_notify(risk_id=risk.id, today=date(2026, 6, 21)) is True
    assert Notification.objects.filter(recipient=editor, kind="risk").count() == 2


def test_edits_through_the_service_queue_the_appetite_check_on_commit(product, editor,
                                                                       django_capture_on_commit_callbacks):
    appetite(product, 10)
    with django_capture_on_commit_callbacks(execute=True):
        services.risk_create(user=editor, product=product, data={"title": "Big", "likelihood": 4, "impact": 4,
                                                                   "owner": editor})
    assert Notification.objects.filter(recipient=editor, kind="risk").count() == 1
