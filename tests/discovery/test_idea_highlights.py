"""A highlight may link a passage to an idea (decision 1615): it adds the insight's weight to the
idea's demand, its company to the idea's "Who asked", moves with a merge, and its author hears when
the idea ships. Figures by hand."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from discovery import services
from discovery.demand import highlight_weight
from discovery.models import Highlight, Idea
from discovery.selectors import idea_askers
from tests.roadmaps.factories import ProductFactory

from .factories import CompanyFactory, InsightFactory

pytestmark = pytest.mark.django_db


def test_an_insight_highlighted_for_an_idea_adds_to_its_demand(admin, product, segment,
                                                               django_capture_on_commit_callbacks):
    from backlog.services import settings_update

    settings_update(actor=admin, product=product, segment_weights={"Enterprise": 2})
    company = CompanyFactory(product=product, name="Globex", revenue=Decimal("90000"), segment=segment)
    insight = InsightFactory(product=product, company=company, author_email="ana@globex.example")
    idea = services.idea_create(user=admin, product=product, data={"title": "Dark mode", "published": True})
    with django_capture_on_commit_callbacks(execute=True):
        highlight = services.highlight_create(user=admin, insight=insight, passage="dark mode", importance=3,
                                              idea=idea)
    assert (highlight.idea_id, highlight.epic_id, highlight.story_id) == (idea.id, None, None)
    idea.refresh_from_db()
    expected = highlight_weight(importance=3, segment_weight=2, revenue=Decimal("90000")).quantize(Decimal("0.01"))
    assert idea.demand == expected == Decimal("12.00")  # 3 x 2 x (1 + log10(10)) = 12
    assert idea.vote_count == 0  # a highlight is demand, not a vote
    assert [c.name for c in idea_askers(idea=idea)["companies"]] == ["Globex"]


def test_highlight_for_an_idea_of_another_product_or_merged_is_refused(admin, product, workspace):
    insight = InsightFactory(product=product)
    theirs = Idea.objects.create(product=ProductFactory(workspace=workspace), title="Theirs")
    into = Idea.objects.create(product=product, title="Kept")
    merged = Idea.objects.create(product=product, title="Gone", merged_into=into)
    for idea in (theirs, merged):
        with pytest.raises(ValidationError) as caught:
            services.highlight_create(user=admin, insight=insight, passage="x", idea=idea)
        assert "idea" in caught.value.message_dict
    assert not Highlight.objects.exists()


def test_merge_moves_highlights_and_shipping_mails_their_authors(admin, product, django_capture_on_commit_callbacks):
    insight = InsightFactory(product=product, author_email="li@initech.example")
    dup = services.idea_create(user=admin, product=product, data={"title": "Night theme", "published": True})
    kept = services.idea_create(user=admin, product=product, data={"title": "Dark mode", "published": True})
    services.highlight_create(user=admin, insight=insight, passage="dark", importance=4, idea=dup)
    services.idea_merge(user=admin, idea=dup, into=kept)
    assert list(Highlight.objects.values_list("idea_id", flat=True)) == [kept.id]
    kept.refresh_from_db()
    assert kept.demand == Decimal("4.00")
    with django_capture_on_commit_callbacks(execute=True):
        services.idea_update(user=admin, idea=kept, data={"status": "shipped"}, version=kept.version)
    assert [m.to for m in mail.outbox] == [["li@initech.example"]] and "Dark mode" in mail.outbox[0].body


def test_insight_page_and_api_link_a_passage_to_an_idea(client_as, api_as, admin, workspace, product,
                                                       django_capture_on_commit_callbacks):
    insight = InsightFactory(product=product, text="Please add a dark mode")
    idea = Idea.objects.create(product=product, title="Dark mode")
    url = reverse("discovery:insight", kwargs={"ws": workspace.slug, "product_id": product.id,
                                               "insight_id": insight.id})
    with django_capture_on_commit_callbacks(execute=True):
        page = client_as(admin).post(url, {"action": "highlight", "passage": "dark mode", "importance": "2",
                                           "idea": idea.id}, follow=True)
    assert page.status_code == 200 and "Dark mode</a> <small class=\"muted\">idea</small>" in page.content.decode()
    created = api_as(admin).post(f"/api/v1/insights/{insight.id}/highlights/",
                                 {"passage": "a dark mode", "importance": 5, "idea": idea.id}, format="json")
    assert created.status_code == 201 and created.json()["idea"] == idea.id
    other = Idea.objects.create(product=ProductFactory(workspace=workspace), title="Elsewhere")
    refused = api_as(admin).post(f"/api/v1/insights/{insight.id}/highlights/",
                                 {"passage": "x", "idea": other.id}, format="json")
    assert refused.status_code == 400 and "idea" in refused.json()["errors"]
    listed = api_as(admin).get("/api/v1/highlights/", {"idea": idea.id}).json()["results"]
    assert len(listed) == 2
