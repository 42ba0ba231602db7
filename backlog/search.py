"""What of this app the header search finds (registered in BacklogConfig.ready; see pmhub/search.py)."""

from django.urls import reverse

from pmhub.search import Searchable, search_register

from .models import Epic, Story

_PRODUCT_VALUES = ("product_id", "product__name", "product__workspace__slug")


def _kwargs(row) -> dict:
    return {"ws": row["product__workspace__slug"], "product_id": row["product_id"]}


def register() -> None:
    search_register(Searchable(
        kind="epic", label="Epic", order=30,
        queryset=lambda: Epic.objects.filter(product__deleted_at__isnull=True),
        title="title", text=("description",), workspace="product__workspace",
        values=("id", "title", *_PRODUCT_VALUES),
        show=lambda r: (r["title"], r["product__name"],
                        reverse("backlog:epic", kwargs=_kwargs(r) | {"epic_id": r["id"]})),
    ))
    search_register(Searchable(
        kind="story", label="Story", order=40,
        queryset=lambda: Story.objects.filter(product__deleted_at__isnull=True),
        title="title", text=("description",), workspace="product__workspace",
        values=("id", "title", *_PRODUCT_VALUES),
        show=lambda r: (r["title"], r["product__name"],
                        reverse("backlog:story", kwargs=_kwargs(r) | {"story_id": r["id"]})),
    ))
