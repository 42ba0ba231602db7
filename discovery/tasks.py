"""Celery tasks of the discovery app: thin, idempotent wrappers over services."""

from celery import shared_task


@shared_task(acks_late=True, time_limit=600)
def demand_recompute(product_id: int) -> None:
    """Customer demand of the product's stories, again (after a revenue, segment or highlight change).
    Recomputing whole is idempotent: a second run writes the same figures."""
    from backlog import services as backlog_services
    from roadmaps.models import Product

    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        backlog_services.demand_recompute(product=product)
