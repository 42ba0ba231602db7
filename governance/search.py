"""What of this app the header search finds (registered in GovernanceConfig.ready; see pmhub/search.py)."""

from django.urls import reverse

from pmhub.search import Searchable, search_register

from .models import Risk


def register() -> None:
    search_register(Searchable(
        kind="risk", label="Risk or issue", order=55,
        queryset=lambda: Risk.objects.filter(product__deleted_at__isnull=True),
        title="title", text=("description", "mitigation"), workspace="product__workspace",
        values=("id", "title", "product_id", "product__name", "product__workspace__slug"),
        show=lambda r: (r["title"], r["product__name"], reverse("governance:risk", kwargs={
            "ws": r["product__workspace__slug"], "product_id": r["product_id"], "risk_id": r["id"]})),
    ))
