"""What of this app the header search finds (registered in MetricsConfig.ready; see pmhub/search.py)."""

from django.urls import reverse

from pmhub.search import Searchable, search_register

from .models import Kpi


def register() -> None:
    search_register(Searchable(
        kind="kpi", label="KPI", order=50,
        queryset=lambda: Kpi.objects.filter(product__deleted_at__isnull=True),
        title="name", text=("description",), workspace="product__workspace",
        values=("id", "name", "product_id", "product__name", "product__workspace__slug"),
        show=lambda r: (r["name"], r["product__name"], reverse("metrics_kpi_detail", kwargs={
            "ws": r["product__workspace__slug"], "product_id": r["product_id"], "kpi_id": r["id"]})),
    ))
