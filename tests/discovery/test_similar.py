"""Duplicate suggestions while typing: pg_trgm word similarity on PostgreSQL (GIN index), the word
share fallback elsewhere; in the inbox and on the portal (published ideas of that portal only)."""

import pytest
from django.db import connection
from django.urls import reverse

from discovery import services
from discovery.models import Idea, Insight
from discovery.similar import similar, word_share

pytestmark = pytest.mark.django_db


def test_word_share_is_the_share_of_typed_words_found():
    assert word_share("export dashboards csv", "Export dashboards to PDF") == pytest.approx(2 / 3)
    assert word_share("a b", "anything") == 0.0


def test_similar_ideas_rank_the_closest_first(product):
    for title in ("Export dashboards to CSV", "Dark mode", "CSV export of reports", "Single sign-on"):
        Idea.objects.create(product=product, title=title)
    titles = [i.title for i in similar(Idea.objects.filter(product=product), field="title", query="csv export")]
    assert set(titles[:2]) == {"Export dashboards to CSV", "CSV export of reports"}
    assert "Dark mode" not in titles
    assert similar(Idea.objects.all(), field="title", query="cs") == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm exists on PostgreSQL only")
def test_the_trigram_index_serves_the_suggestions(product):
    from django.contrib.postgres.lookups import TrigramWordSimilar

    Idea._meta.get_field("title").register_lookup(TrigramWordSimilar)
    qs = Idea.objects.filter(title__trigram_word_similar="export")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = qs.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")
    assert "discovery_idea_title_trgm" in plan, plan


def test_inbox_suggests_similar_insights_while_typing(client_as, editor, workspace, product, other_product):
    Insight.objects.create(product=product, text="Please add CSV export to dashboards")
    Insight.objects.create(product=other_product, text="Please add CSV export to dashboards too")
    url = reverse("discovery:similar", kwargs={"ws": workspace.slug, "product_id": product.id})
    html = client_as(editor).get(url, {"kind": "insight", "text": "csv export"}).content.decode()
    assert html.count("<li>") == 1 and "too" not in html
    inbox = client_as(editor).get(reverse("discovery:inbox", kwargs={"ws": workspace.slug,
                                                                     "product_id": product.id})).content.decode()
    assert "hx-get" in inbox and 'id="similar"' in inbox


def test_portal_suggests_only_published_ideas_of_its_product(client, admin, product, other_product):
    portal = services.portal_save(user=admin, product=product, data={"slug": "acme", "name": "A", "enabled": True})
    Idea.objects.create(product=product, title="CSV export of dashboards", published=True)
    Idea.objects.create(product=product, title="CSV export secret plan", published=False)
    Idea.objects.create(product=other_product, title="CSV export elsewhere", published=True)
    html = client.get(reverse("portal:similar", kwargs={"slug": portal.slug}), {"title": "csv export"}).content.decode()
    assert "CSV export of dashboards" in html and "secret" not in html and "elsewhere" not in html


def test_portal_suggestions_are_rate_limited(client, admin, product, settings):
    settings.DISCOVERY_PUBLIC_RATE = "1/min"
    portal = services.portal_save(user=admin, product=product, data={"slug": "acme", "name": "A", "enabled": True})
    url = reverse("portal:similar", kwargs={"slug": portal.slug})
    assert [client.get(url, {"title": "csv"}).status_code for _ in range(2)] == [200, 429]


def test_similar_partial_outsider_404(client_as, outsider, workspace, product):
    url = reverse("discovery:similar", kwargs={"ws": workspace.slug, "product_id": product.id})
    assert client_as(outsider).get(url, {"title": "csv"}).status_code == 404
    assert client_as(outsider).post(url, {"title": "csv"}).status_code == 404


def test_ideas_page_suggests_similar_ideas_while_typing(client_as, editor, workspace, product):
    """The team's own "Add an idea" form asks for duplicates as the title is typed, like the inbox."""

    Idea.objects.create(product=product, title="Dark mode for dashboards")
    kw = {"ws": workspace.slug, "product_id": product.id}
    page = client_as(editor).get(reverse("discovery:ideas", kwargs=kw)).content.decode()
    assert "?kind=idea" in page and 'hx-target="#similar"' in page and 'id="similar"' in page
    partial = client_as(editor).get(reverse("discovery:similar", kwargs=kw), {"kind": "idea", "title": "dark mode"})
    assert "Dark mode for dashboards" in partial.content.decode()
