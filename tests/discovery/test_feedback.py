"""Feedback has one write path (decision 1613): Backlog › Feedback (discovery's page at the
backlog's old address) and POST /api/v1/feedback/ file an insight into the inbox, highlighted
for each linked story and epic; the backlog's old rows are moved by discovery/0011; the story
page, the story API and "Who asked" give the same counts and demand."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from backlog.models import Epic, Story
from discovery import services
from discovery.models import Company, Highlight, Insight
from roadmaps.models import Segment
from tests.roadmaps.factories import ProductFactory

from .factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def work(product):
    epic = Epic.objects.create(product=product, title="Reporting")
    stories = [Story.objects.create(product=product, title=t, epic=epic) for t in ("Scheduled reports", "Exports")]
    return epic, stories


def _url(name, product, **kw):
    return reverse(name, kwargs={"ws": product.workspace.slug, "product_id": product.id, **kw})


def test_feedback_lands_in_the_inbox_highlighted_for_its_work(product, editor, admin, work,
                                                               django_capture_on_commit_callbacks):
    from backlog import services as backlog_services

    epic, stories = work
    backlog_services.settings_update(actor=admin, product=product, segment_weights={"Enterprise": 2})
    enterprise = Segment.objects.create(product=product, name="Enterprise")
    globex = CompanyFactory(product=product, name="Globex", revenue=None, segment=enterprise)
    with django_capture_on_commit_callbacks(execute=True):
        insight = services.feedback_file(user=editor, product=product, customer="globex", quote="  Reports weekly ",
                                         source="Sales call", importance=4, story_ids=[stories[0].id],
                                         epic_ids=[epic.id])
    insight.refresh_from_db()
    assert (insight.channel, insight.state, insight.title, insight.text, insight.company_id) == (
        "feedback", "reviewed", "globex (Sales call)", "Reports weekly", globex.id)  # matched by name, any case
    assert set(insight.highlights.values_list("story_id", "epic_id", "importance", "passage")) == {
        (stories[0].id, None, 4, "Reports weekly"), (None, epic.id, 4, "Reports weekly")}
    assert Story.objects.get(pk=stories[0].pk).demand == Decimal("8.00")  # 4 x 2 (Enterprise), no revenue
    # A customer of no known company becomes one (in the segment given), and unlinked feedback stays new.
    other = services.feedback_file(user=editor, product=product, customer="Initech", quote="Hi", segment=enterprise)
    assert other.state == "new" and other.company.name == "Initech" and other.company.segment_id == enterprise.id
    assert Company.objects.filter(product=product).count() == 2


def test_feedback_is_refused_whole_with_reasons(product, editor, viewer, work):
    _epic, stories = work
    foreign = Story.objects.create(product=ProductFactory(workspace=product.workspace), title="Theirs")
    with pytest.raises(Exception) as caught:
        services.feedback_file(user=editor, product=product, customer=" ", quote="", importance=9,
                               story_ids=[stories[0].id, foreign.id])
    assert set(caught.value.message_dict) == {"customer", "quote", "importance", "story_ids"}
    assert str(foreign.id) in caught.value.message_dict["story_ids"][0]
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.feedback_file(user=viewer, product=product, customer="A", quote="B")
    assert not Insight.objects.exists() and not Company.objects.exists()


def test_feedback_page_files_into_the_inbox_and_keeps_what_was_typed(client_as, admin, viewer, product, work,
                                                                    django_capture_on_commit_callbacks):
    epic, stories = work
    url = _url("discovery:feedback", product)
    assert url == f"/w/{product.workspace.slug}/products/{product.id}/feedback/"  # the backlog's old address
    bad = client_as(admin).post(url, {"customer": "Globex", "quote": "", "importance": "3",
                                      "stories": [stories[1].id]})
    assert bad.status_code == 400 and "Globex" in bad.content.decode()
    assert bad.context["form"]["stories"].value() == [str(stories[1].id)]
    with django_capture_on_commit_callbacks(execute=True):
        ok = client_as(admin).post(url, {"customer": "Globex", "quote": "Weekly PDF", "importance": "5",
                                         "stories": [stories[1].id], "epics": [epic.id]}, follow=True)
    assert ok.status_code == 200, ok.context["form"].errors
    assert "Feedback recorded in the insights inbox" in ok.content.decode()
    page = client_as(viewer).get(url).content.decode()
    assert "Weekly PDF" in page and "Exports" in page and "Save feedback" not in page
    # The story page's demand line, its "Who asked" panel and the story API say the same.
    story_page = client_as(admin).get(_url("backlog:story", product, story_id=stories[1].id))
    assert story_page.context["demand"] == {"customers": 1, "segments": [], "feedback_count": 1,
                                            "demand": Decimal("5.00")}
    html = story_page.content.decode()
    assert "1 company asked" in html and "1 highlighted insight" in html and "Globex" in html


def test_feedback_api_files_into_the_inbox(api_as, admin, viewer, outsider, product, work, segment,
                                           django_capture_on_commit_callbacks):
    epic, stories = work
    body = {"product": product.id, "customer": "Umbrella", "quote": "Alerts!", "importance": 2, "segment": segment.id,
            "story_ids": [stories[0].id], "epic_ids": [epic.id]}
    with django_capture_on_commit_callbacks(execute=True):
        created = api_as(admin).post("/api/v1/feedback/", body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["channel"] == "feedback" and data["text"] == "Alerts!" and len(data["highlights"]) == 2
    assert Company.objects.get(pk=data["company"]).segment_id == segment.id
    assert api_as(viewer).post("/api/v1/feedback/", body, format="json").status_code == 403
    assert api_as(outsider).post("/api/v1/feedback/", body, format="json").status_code in (400, 404)
    bad = api_as(admin).post("/api/v1/feedback/", body | {"importance": 9, "customer": ""}, format="json")
    assert bad.status_code == 400 and {"importance", "customer"} <= set(bad.json()["errors"])
    assert Insight.objects.count() == 1


def test_old_backlog_feedback_moves_into_the_inbox_once(product, work, admin):
    """discovery/0011 on a database that still has the backlog's feedback table (built here from the
    migration state before it): every row becomes an insight with a highlight per link, its customer
    a company (its segment made when missing), demand recomputed, the rows gone."""
    import importlib

    from tests.services import on_postgres, require

    require(on_postgres(), "PostgreSQL (a table made and dropped inside the test's transaction; SQLite's "
                           "schema editor refuses that with foreign key checks on)")
    epic, stories = work
    loader = MigrationLoader(connection)
    state = loader.project_state([("discovery", "0010_portal_logo"), ("backlog", "0007_search_gin_indexes")])
    old = state.apps
    Feedback = old.get_model("backlog", "Feedback")
    with connection.schema_editor() as editor:
        editor.create_model(Feedback)
    try:
        from backlog.models import BacklogSettings

        BacklogSettings.objects.update_or_create(product=product, defaults={"segment_weights": {"SMB": 2}})
        copied = Insight.objects.create(product=product, text="Faster exports", channel="feedback",
                                        key="feedback-placeholder")
        fb = Feedback.objects.create(product_id=product.id, customer="Initech", segment="SMB", quote="Faster exports",
                                     importance=4, source="call")
        fb.stories.set([stories[1].id])
        fb.epics.set([epic.id])
        Insight.objects.filter(pk=copied.pk).update(key=f"feedback-{fb.id}")  # migration 0002 copied it already
        plain = Feedback.objects.create(product_id=product.id, customer="Hooli", quote="Dark mode", importance=2)
        migration = importlib.import_module("discovery.migrations.0011_feedback_into_inbox")
        migration.move_feedback(old, None)
        assert not Feedback.objects.exists()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with connection.schema_editor() as editor:
            editor.delete_model(Feedback)
    moved = Insight.objects.get(key=f"feedback-{fb.id}")
    assert moved.pk == copied.pk and moved.company.name == "Initech" and moved.company.segment.name == "SMB"
    assert set(Highlight.objects.filter(insight=moved).values_list("story_id", "epic_id", "importance")) == {
        (stories[1].id, None, 4), (None, epic.id, 4)}
    assert Insight.objects.get(key=f"feedback-{plain.id}").highlights.count() == 0
    assert Story.objects.get(pk=stories[1].pk).demand == Decimal("8.00")  # 4 x 2 (SMB), no revenue known
    assert Insight.objects.filter(channel="feedback").count() == 2


def test_epic_demand_is_kept_and_scored_like_a_story(product, admin, work, django_capture_on_commit_callbacks):
    """Each epic's customer demand (its "Who asked" figure) is stored as Epic.demand by the
    backlog's demand_recompute, so a weighted model's Demand criterion scores epics too."""
    from backlog import services as backlog_services

    epic, stories = work
    with django_capture_on_commit_callbacks(execute=True):
        backlog_services.scoring_model_update(actor=admin, product=product, framework="weighted", criteria=[
            {"key": "demand", "weight": 2, "source": "demand"}])
        services.feedback_file(user=admin, product=product, customer="A", quote="Q", importance=3,
                               story_ids=[stories[0].id])
        services.feedback_file(user=admin, product=product, customer="B", quote="Q", importance=2, epic_ids=[epic.id])
    epic.refresh_from_db()
    assert epic.demand == Decimal("5.00")  # 3 (its story) + 2 (the epic itself), no revenue or segment known
    assert epic.score == Decimal("10")  # 2 x demand


def test_epic_demand_migration_fills_existing_epics(product, work):
    import importlib

    from django.apps import apps

    epic, stories = work
    Highlight.objects.create(insight=Insight.objects.create(product=product, text="x"), passage="x", importance=4,
                             story=stories[1], epic=epic)  # on the epic and its story: counted once
    Epic.objects.filter(pk=epic.pk).update(demand=0)
    importlib.import_module("discovery.migrations.0012_epic_demand").fill_epic_demand(apps, None)
    assert Epic.objects.get(pk=epic.pk).demand == Decimal("4.00")
