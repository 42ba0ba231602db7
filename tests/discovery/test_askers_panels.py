"""'Who asked' on the backlog's story and epic pages: a panel discovery registers (pmhub.panels),
so the backlog never imports discovery. Figures by hand; query count independent of the askers."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backlog.models import Epic, Story
from discovery.models import Highlight
from discovery.selectors import askers_of

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


def _ask(product, story=None, epic=None, *, revenue=None, segment=None, importance=3, currency="EUR"):
    company = CompanyFactory(product=product, revenue=revenue, segment=segment, currency=currency)
    insight = InsightFactory(product=product, company=company)
    Highlight.objects.create(insight=insight, passage="this", importance=importance, story=story, epic=epic)
    return company


def test_askers_of_story_by_hand(product, segment):
    story = Story.objects.create(product=product, title="SSO")
    big = _ask(product, story, revenue=Decimal("500000"), segment=segment, importance=4)
    small = _ask(product, story, revenue=None, importance=2)
    _ask(product, Story.objects.create(product=product, title="Other"), revenue=Decimal("9"))
    from discovery.demand import highlight_weight

    got = askers_of(story=story, weights={"Enterprise": 2})
    assert [c.id for c in got["companies"]] == [big.id, small.id]
    assert got["revenue"] == [("EUR", Decimal("500000"))]
    assert got["segments"] == ["Enterprise"] and got["highlights"] == 2
    expected = (highlight_weight(importance=4, segment_weight=2, revenue=Decimal("500000"))
                + highlight_weight(importance=2, revenue=None))
    assert got["demand"] == expected and expected > 0


def test_epic_askers_include_its_stories(product):
    epic = Epic.objects.create(product=product, title="Identity")
    story = Story.objects.create(product=product, title="SSO", epic=epic)
    a = _ask(product, epic=epic, revenue=Decimal("100"))
    b = _ask(product, story, revenue=Decimal("50"), currency="USD")
    _ask(product, Story.objects.create(product=product, title="Elsewhere"), revenue=Decimal("7"))
    got = askers_of(epic=epic)
    assert {c.id for c in got["companies"]} == {a.id, b.id}
    assert got["revenue"] == [("EUR", Decimal("100")), ("USD", Decimal("50"))]


def test_story_and_epic_pages_show_who_asked(client_as, viewer, workspace, product, segment):
    epic = Epic.objects.create(product=product, title="Identity")
    story = Story.objects.create(product=product, title="SSO", epic=epic)
    company = _ask(product, story, revenue=Decimal("250000"), segment=segment)
    company.name = "Initech <b>"
    company.save()
    client = client_as(viewer)
    kw = {"ws": workspace.slug, "product_id": product.id}
    for url in (reverse("backlog:story", kwargs=kw | {"story_id": story.id}),
                reverse("backlog:epic", kwargs=kw | {"epic_id": epic.id})):
        page = client.get(url).content.decode()
        assert "Who asked" in page and 'data-testid="askers"' in page
        assert "Initech &lt;b&gt;" in page and "250,000 EUR a year" in page and "Enterprise" in page
        assert 'data-testid="askers-demand"' in page


def test_story_page_without_askers_says_so(client_as, viewer, workspace, product):
    story = Story.objects.create(product=product, title="Nobody asked")
    url = reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id, "story_id": story.id})
    assert "No customer has asked for this yet" in client_as(viewer).get(url).content.decode()


def test_story_page_queries_do_not_grow_per_asker(client_as, viewer, workspace, product, segment):
    story = Story.objects.create(product=product, title="SSO")
    client = client_as(viewer)
    url = reverse("backlog:story", kwargs={"ws": workspace.slug, "product_id": product.id, "story_id": story.id})
    counts = []
    for n in (2, 20):
        while Highlight.objects.filter(story=story).count() < n:
            _ask(product, story, revenue=Decimal("1000"), segment=segment)
        client.get(url)  # warm per-process caches
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_epics_list_demand_column_is_the_epic_pages_figure_and_sorts(client_as, viewer, workspace, product, segment):
    """The epics list's Demand column (Epic.demand, kept from discovery.selectors.epics_demand by
    registry) is each epic's "Who asked" figure: highlights for the epic and its stories, each once;
    ?sort=demand orders by it."""
    from backlog.services import settings_update
    from discovery.demand import highlight_weight
    from pmhub.models import Role
    from tests.factories import MembershipFactory, UserFactory

    admin = UserFactory()
    MembershipFactory(user=admin, workspace=workspace, role=Role.ADMIN)
    settings_update(actor=admin, product=product, segment_weights={"Enterprise": 2})
    small = Epic.objects.create(product=product, title="Small")
    big = Epic.objects.create(product=product, title="Big")
    story = Story.objects.create(product=product, title="SSO", epic=big)
    _ask(product, story, revenue=Decimal("1000000"), segment=segment, importance=5)
    both = _ask(product, story, epic=big, importance=2)  # on the epic and on its story: counted once
    _ask(product, epic=small, importance=1)
    Epic.objects.create(product=product, title="Nobody")
    from backlog.services import demand_recompute

    demand_recompute(product=product)  # what the worker does after every highlight (Epic.demand kept)
    expected_big = (highlight_weight(importance=5, segment_weight=2, revenue=Decimal("1000000"))
                    + highlight_weight(importance=2)).quantize(Decimal("0.01"))
    kw = {"ws": workspace.slug, "product_id": product.id}
    client = client_as(viewer)
    page = client.get(reverse("backlog:epics", kwargs=kw))
    column = {e.title: e.demand for e in page.context["epics"]}
    assert column == {"Big": expected_big, "Small": Decimal("1.00"), "Nobody": Decimal(0)} and both
    for epic in (big, small):
        panel = client.get(reverse("backlog:epic", kwargs=kw | {"epic_id": epic.id})).context["askers"]
        assert panel["demand"].quantize(Decimal("0.01")) == column[epic.title]
    by_demand = client.get(reverse("backlog:epics", kwargs=kw) + "?sort=demand")
    assert [e.title for e in by_demand.context["epics"]] == ["Big", "Small", "Nobody"]
    html = by_demand.content.decode()
    assert 'aria-sort="descending"><a href="?sort=demand"' in html
    assert f'data-testid="epic-demand">{expected_big}<' in html


def test_epics_list_queries_do_not_grow_per_epic(client_as, viewer, workspace, product):
    client = client_as(viewer)
    url = reverse("backlog:epics", kwargs={"ws": workspace.slug, "product_id": product.id})
    counts = []
    for n in (2, 12):
        while Epic.objects.filter(product=product).count() < n:
            epic = Epic.objects.create(product=product, title=f"E{n}")
            _ask(product, Story.objects.create(product=product, title="S", epic=epic), importance=3)
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url + "?sort=demand").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_story_askers_counts_equal_askers_of_in_one_query(product, segment, django_assert_num_queries):
    """The story API's counts (one query, issue 23) are askers_of's: companies asking twice, a
    company without a segment, an insight without a company, another story's askers."""
    from discovery.selectors import story_askers
    from roadmaps.models import Segment

    story = Story.objects.create(product=product, title="SSO")
    twice = _ask(product, story, revenue=Decimal("10"), segment=segment)
    Highlight.objects.create(insight=InsightFactory(product=product, company=twice), passage="again", story=story)
    _ask(product, story, segment=Segment.objects.create(product=product, name="SMB"))
    _ask(product, story)
    Highlight.objects.create(insight=InsightFactory(product=product, company=None), passage="anon", story=story)
    _ask(product, Story.objects.create(product=product, title="Other"), segment=segment)
    full = askers_of(story=story)
    with django_assert_num_queries(1):
        counts = story_askers(story)
    assert counts == {"customers": len(full["companies"]), "segments": full["segments"],
                      "feedback_count": full["highlights"]}
    assert counts == {"customers": 3, "segments": ["Enterprise", "SMB"], "feedback_count": 5}
    empty = Story.objects.create(product=product, title="Nobody asked")
    assert story_askers(empty) == {"customers": 0, "segments": [], "feedback_count": 0}


def test_story_api_reads_the_askers_in_the_storys_query(product, segment, admin, api_as,
                                                        django_assert_num_queries):
    """GET /api/v1/stories/<id>/ reads who asked and the criteria in the story's own query
    (decision 1963): the same counts as story_askers, criteria in their order."""
    from backlog import services as backlog_services
    from discovery.selectors import story_askers
    from roadmaps.models import Segment

    story = backlog_services.story_create(actor=admin, product=product, title="SSO",
                                          criteria=["first", "second", "third"])
    twice = _ask(product, story, revenue=Decimal("10"), segment=segment)
    Highlight.objects.create(insight=InsightFactory(product=product, company=twice), passage="again", story=story)
    _ask(product, story, segment=Segment.objects.create(product=product, name="SMB"))
    Highlight.objects.create(insight=InsightFactory(product=product, company=None), passage="anon", story=story)
    _ask(product, Story.objects.create(product=product, title="Other"), segment=segment)
    client = api_as(admin)
    client.get(f"/api/v1/stories/{story.id}/")  # warm the process caches
    with django_assert_num_queries(1):
        body = client.get(f"/api/v1/stories/{story.id}/").json()
    summary = body["demand_summary"]
    assert {k: summary[k] for k in ("customers", "segments", "feedback_count")} == story_askers(story)
    assert story_askers(story) == {"customers": 2, "segments": ["Enterprise", "SMB"], "feedback_count": 4}
    assert [c["text"] for c in body["criteria"]] == ["first", "second", "third"]
    assert [c["position"] for c in body["criteria"]] == [0, 1, 2]
    nobody = Story.objects.create(product=product, title="Nobody asked", rank="zz")
    summary = client.get(f"/api/v1/stories/{nobody.id}/").json()["demand_summary"]
    assert (summary["customers"], summary["segments"], summary["feedback_count"], body["criteria"][0]["done"]) == (
        0, [], 0, False)
