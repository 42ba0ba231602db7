import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["list", "epics", "scoring", "settings"])
def test_product_pages_render_for_viewer(client_as, viewer, product, stories, name):
    response = client_as(viewer).get(reverse(f"backlog:{name}", kwargs={"ws": "acme", "product_id": product.id}))
    assert response.status_code == 200


def test_story_page_renders(client_as, admin, product, stories):
    url = reverse("backlog:story", kwargs={"ws": "acme", "product_id": product.id, "story_id": stories[0].id})
    response = client_as(admin).get(url)
    assert response.status_code == 200
    assert b"Story 1" in response.content
