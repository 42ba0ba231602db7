"""What of this app the header search finds (registered in RoadmapsConfig.ready; see pmhub/search.py)."""

from django.urls import reverse

from pmhub.search import Searchable, search_register

from .models import Initiative, Product


def register() -> None:
    search_register(Searchable(
        kind="product", label="Product", order=10,
        queryset=lambda: Product.objects.alive(), title="name", text=("vision",), workspace="workspace",
        values=("id", "name", "workspace__slug", "workspace__name"),
        show=lambda r: (r["name"], r["workspace__name"],
                        reverse("roadmaps:product", kwargs={"ws": r["workspace__slug"], "product_id": r["id"]})),
    ))
    search_register(Searchable(
        kind="initiative", label="Initiative", order=20,
        queryset=lambda: Initiative.objects.filter(product__deleted_at__isnull=True),
        title="title", text=("description",), workspace="product__workspace",
        values=("id", "title", "product_id", "product__name", "product__workspace__slug"),
        # The work page, not the edit form: viewers may open it too.
        show=lambda r: (r["title"], r["product__name"], reverse("roadmaps:initiative_work", kwargs={
            "ws": r["product__workspace__slug"], "product_id": r["product_id"], "initiative_id": r["id"]})),
    ))
