"""What of this app the header search finds (registered in DiscoveryConfig.ready; see pmhub/search.py)."""

from django.urls import reverse

from pmhub.search import Searchable, search_register

from .models import Company, Idea, Insight

_PRODUCT_VALUES = ("product_id", "product__name", "product__workspace__slug")


def _kwargs(row) -> dict:
    return {"ws": row["product__workspace__slug"], "product_id": row["product_id"]}


def register() -> None:
    search_register(Searchable(
        kind="company", label="Company", order=70,
        queryset=lambda: Company.objects.filter(product__deleted_at__isnull=True),
        title="name", text=("domain", "plan"), workspace="product__workspace",
        values=("id", "name", *_PRODUCT_VALUES),
        show=lambda r: (r["name"], r["product__name"],
                        reverse("discovery:company", kwargs=_kwargs(r) | {"company_id": r["id"]})),
    ))
    search_register(Searchable(
        kind="insight", label="Insight", order=75,
        queryset=lambda: Insight.objects.filter(product__deleted_at__isnull=True),
        title="title", text=("text",), workspace="product__workspace",
        values=("id", "title", "text", *_PRODUCT_VALUES),
        show=lambda r: ((r["title"] or r["text"][:80]), r["product__name"],
                        reverse("discovery:insight", kwargs=_kwargs(r) | {"insight_id": r["id"]})),
    ))
    search_register(Searchable(
        kind="idea", label="Idea", order=72,
        queryset=lambda: Idea.objects.filter(product__deleted_at__isnull=True, merged_into__isnull=True),
        title="title", text=("description",), workspace="product__workspace",
        values=("id", "title", *_PRODUCT_VALUES),
        show=lambda r: (r["title"], r["product__name"],
                        reverse("discovery:idea", kwargs=_kwargs(r) | {"idea_id": r["id"]})),
    ))
