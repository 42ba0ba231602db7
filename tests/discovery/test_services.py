"""Discovery services: companies (CRM upsert), people resolved by e-mail, the insights inbox
(idempotent bulk intake), highlights and the customer demand they give stories."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import BacklogSettings, Story
from discovery import services
from discovery.demand import highlight_weight, revenue_factor
from discovery.intake import BatchInvalid, BatchTooLarge
from discovery.models import Company, Highlight, Insight, Person
from pmhub.errors import Conflict
from pmhub.models import Activity

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


def test_company_create_stores_normalised_fields_and_logs(editor, product, segment):
    company = services.company_create(user=editor, product=product, data={
        "name": " Globex ", "domain": "https://www.Globex.com/", "segment": segment, "revenue": Decimal("120000"),
        "currency": "usd", "plan": "Enterprise", "external_id": "crm-1"})
    company.refresh_from_db()
    assert (company.name, company.domain, company.currency, company.segment_id) == ("Globex", "globex.com", "USD",
                                                                                   segment.id)
    assert Activity.objects.filter(verb="created company").count() == 1


def test_company_segment_must_belong_to_the_product(editor, product, other_product):
    from roadmaps.models import Segment

    foreign = Segment.objects.create(product=other_product, name="Theirs")
    with pytest.raises(ValidationError) as exc:
        services.company_create(user=editor, product=product, data={"name": "X", "segment": foreign})
    assert "segment" in exc.value.message_dict
    assert not Company.objects.exists()


def test_company_duplicate_domain_is_a_field_error(editor, product):
    services.company_create(user=editor, product=product, data={"name": "A", "domain": "a.com"})
    with pytest.raises(ValidationError) as exc:
        services.company_create(user=editor, product=product, data={"name": "B", "domain": "a.com"})
    assert "domain" in exc.value.message_dict
    assert Company.objects.count() == 1


def test_viewer_cannot_create_a_company(viewer, product):
    with pytest.raises(PermissionDenied):
        services.company_create(user=viewer, product=product, data={"name": "A"})
    assert not Company.objects.exists()


def test_company_update_needs_the_version_read(editor, product):
    company = CompanyFactory(product=product)
    with pytest.raises(Conflict):
        services.company_update(user=editor, company=company, data={"name": "New"}, version=0)
    services.company_update(user=editor, company=company, data={"name": "New"}, version=company.version)
    company.refresh_from_db()
    assert company.name == "New" and company.version == 2


def test_upsert_matches_by_external_id_then_domain_and_is_idempotent(editor, product):
    record = {"external_id": "crm-9", "name": "Initech", "domain": "initech.com", "revenue": Decimal("5000")}
    first, created = services.company_upsert(user=editor, product=product, data=record)
    assert created
    again, created_again = services.company_upsert(user=editor, product=product, data=record)
    assert (again.id, created_again) == (first.id, False)
    by_domain, created = services.company_upsert(user=editor, product=product,
                                                 data={"domain": "initech.com", "revenue": Decimal("7000")})
    assert (by_domain.id, created) == (first.id, False)
    first.refresh_from_db()
    assert first.revenue == Decimal("7000") and Company.objects.count() == 1


def test_upsert_without_a_key_is_refused(editor, product):
    with pytest.raises(ValidationError):
        services.company_upsert(user=editor, product=product, data={"name": "Nobody"})
    assert not Company.objects.exists()


def test_person_joins_the_company_of_their_domain(editor, product):
    company = CompanyFactory(product=product, domain="hooli.com")
    person = services.person_create(user=editor, product=product, data={"email": "Gavin@Hooli.com", "name": "G"})
    assert (person.email, person.company_id) == ("gavin@hooli.com", company.id)
    with pytest.raises(ValidationError):
        services.person_create(user=editor, product=product, data={"email": "gavin@hooli.com"})


def test_bulk_intake_is_idempotent_per_key_and_resolves_people_and_companies(editor, product):
    company = CompanyFactory(product=product, domain="globex.com", external_id="crm-7")
    items = [{"id": "t-1", "text": "SSO please", "email": "ana@globex.com", "name": "Ana"},
             {"id": "t-2", "text": "Dark mode", "company": "crm-7"},
             {"id": "t-1", "text": "SSO please (re-sent in the same batch)"},
             {"text": "No key, no author"}]
    result = services.insights_intake(product=product, items=items, user=editor)
    assert result == {"accepted": 4, "created": 3, "duplicates": 1}
    again = services.insights_intake(product=product, items=items[:2], user=editor)
    assert again["created"] == 0
    assert Insight.objects.count() == 3
    sso = Insight.objects.get(key="t-1")
    assert sso.person.email == "ana@globex.com" and sso.person.name == "Ana" and sso.company_id == company.id
    assert Insight.objects.get(key="t-2").company_id == company.id
    assert Person.objects.get(email="ana@globex.com").company_id == company.id


def test_bulk_intake_with_one_bad_item_stores_nothing(editor, product):
    with pytest.raises(BatchInvalid) as exc:
        services.insights_intake(product=product, user=editor, items=[{"text": "fine"}, {"text": ""},
                                                                     {"text": "x", "email": "not-an-email"}])
    assert set(exc.value.errors) == {"1", "2"}
    assert not Insight.objects.exists() and not Person.objects.exists()


def test_bulk_intake_refuses_too_large_batches(editor, product, settings):
    settings.API_MAX_BATCH_SIZE = 2
    with pytest.raises(BatchTooLarge):
        services.insights_intake(product=product, user=editor, items=[{"text": "a"}] * 3)


def test_insight_update_changes_state_and_owner(editor, product):
    insight = InsightFactory(product=product)
    services.insight_update(user=editor, insight=insight, data={"state": "reviewed", "owner": editor},
                            version=insight.version)
    insight.refresh_from_db()
    assert (insight.state, insight.owner_id) == ("reviewed", editor.id)
    assert Activity.objects.filter(verb="marked insight reviewed").exists()


def test_insight_owner_must_be_a_member(editor, product, outsider):
    insight = InsightFactory(product=product)
    with pytest.raises(ValidationError):
        services.insight_update(user=editor, insight=insight, data={"owner": outsider}, version=insight.version)
    insight.refresh_from_db()
    assert insight.owner_id is None


def test_revenue_factor_is_logarithmic():
    assert revenue_factor(None) == 1.0
    assert revenue_factor(0) == 1.0
    assert revenue_factor(Decimal("90000")) == pytest.approx(2.0)
    assert highlight_weight(importance=5, segment_weight=2, revenue=Decimal("990000")) == Decimal("30")


def test_highlight_adds_weighted_demand_to_the_story(editor, product, segment, django_capture_on_commit_callbacks):
    BacklogSettings.objects.update_or_create(product=product, defaults={"segment_weights": {"Enterprise": 2}})
    story = Story.objects.create(product=product, title="SSO")
    company = CompanyFactory(product=product, segment=segment, revenue=Decimal("90000"))
    insight = InsightFactory(product=product, company=company)
    with django_capture_on_commit_callbacks(execute=True):
        highlight = services.highlight_create(user=editor, insight=insight, passage="SSO", importance=4,
                                              story=story)
    story.refresh_from_db()
    assert story.demand == Decimal("16.00")  # 4 x 2 (segment) x 2 (revenue factor of 90,000)
    insight.refresh_from_db()
    assert insight.state == "reviewed"
    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_delete(user=editor, highlight=highlight)
    story.refresh_from_db()
    assert story.demand == Decimal("0") and not Highlight.objects.exists()


def test_revenue_change_recomputes_demand_in_the_worker(editor, product, django_capture_on_commit_callbacks):
    story = Story.objects.create(product=product, title="SSO")
    company = CompanyFactory(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        services.highlight_create(user=editor, insight=InsightFactory(product=product, company=company),
                                  passage="p", importance=1, story=story)
    story.refresh_from_db()
    assert story.demand == Decimal("1.00")
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly on commit
        services.company_update(user=editor, company=company, data={"revenue": Decimal("990000")},
                                version=company.version)
    story.refresh_from_db()
    assert story.demand == Decimal("3.00")


def test_highlight_must_link_work_of_the_same_product(editor, product, other_product):
    foreign = Story.objects.create(product=other_product, title="Theirs")
    insight = InsightFactory(product=product)
    with pytest.raises(ValidationError):
        services.highlight_create(user=editor, insight=insight, passage="p", importance=3, story=foreign)
    with pytest.raises(ValidationError):
        services.highlight_create(user=editor, insight=insight, passage="p", importance=3)
    assert not Highlight.objects.exists()


def test_delete_services_remove_rows(editor, product):
    company = CompanyFactory(product=product)
    person = services.person_create(user=editor, product=product, data={"email": "a@b.co"})
    insight = InsightFactory(product=product)
    services.person_delete(user=editor, person=person)
    services.insight_delete(user=editor, insight=insight)
    services.company_delete(user=editor, company=company)
    assert not (Company.objects.exists() or Person.objects.exists() or Insight.objects.exists())


def test_person_update_renames(editor, product):
    person = services.person_create(user=editor, product=product, data={"email": "a@b.co"})
    services.person_update(user=editor, person=person, data={"name": "Ada"}, version=person.version)
    person.refresh_from_db()
    assert (person.name, person.version) == ("Ada", 2)


def test_insight_create_files_one_by_hand(editor, product):
    company = CompanyFactory(product=product, domain="initech.com")
    insight = services.insight_create(user=editor, product=product, data={
        "text": "Audit log please", "author_email": "Li@Initech.com", "author_name": "Li", "owner": editor})
    insight.refresh_from_db()
    assert (insight.channel, insight.state, insight.company_id, insight.owner_id) == ("manual", "new", company.id,
                                                                                      editor.id)
    assert insight.person.email == "li@initech.com"
    assert Activity.objects.filter(verb="filed insight").exists()


def test_a_new_insight_owner_is_notified(editor, admin, product):
    from pmhub.models import Notification

    insight = InsightFactory(product=product)
    services.insight_update(user=editor, insight=insight, data={"owner": admin}, version=insight.version)
    note = Notification.objects.get(recipient=admin)
    assert note.kind == "assignment" and f"/inbox/{insight.id}/" in note.url
    services.insight_update(user=editor, insight=insight, data={"owner": editor}, version=insight.version)
    assert Notification.objects.count() == 1  # nobody is told about their own choice
