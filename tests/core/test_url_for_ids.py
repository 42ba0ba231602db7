"""pmhub.utils.url_for_ids: one reverse() for many rows gives each row the URL reverse() gives."""

from django.urls import reverse

from pmhub.utils import url_for_ids


def test_url_for_ids_matches_reverse_for_every_id():
    scope = {"ws": "acme-9", "product_id": 999}
    for name in ("roadmaps:initiative", "roadmaps:initiative_move", "roadmaps:initiative_work"):
        url = url_for_ids(name, "initiative_id", **scope)
        for pk in (1, 9, 10, 999, 999_999_936, 1234567890):
            assert url(pk) == reverse(name, kwargs={**scope, "initiative_id": pk})


def test_url_for_ids_takes_only_integers():
    url = url_for_ids("roadmaps:initiative", "initiative_id", ws="acme", product_id=1)
    assert url("12") == "/w/acme/products/1/initiatives/12/"
    try:
        url("12/../../x")
    except ValueError:
        pass
    else:
        raise AssertionError("a non-integer id was accepted")
