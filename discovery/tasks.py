"""Celery tasks of the discovery app: thin, idempotent wrappers over services."""

from celery import shared_task
from celery.contrib.django.task import DjangoTask as Task


@shared_task(acks_late=True, time_limit=600)
def demand_recompute(product_id: int) -> None:
    """Customer demand of the product's stories, again (after a revenue, segment or highlight change).
    Recomputing whole is idempotent: a second run writes the same figures."""
    from backlog import services as backlog_services
    from roadmaps.models import Product

    from . import services

    product = Product.objects.filter(pk=product_id).first()
    if product is not None:
        backlog_services.demand_recompute(product=product)
        services.ideas_recount_product(product_id=product.id)


class _ImportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        """An unexpected error: the import fails visibly instead of polling forever."""
        from .models import CsvImport

        import_id = args[0] if args else kwargs.get("import_id")
        CsvImport.objects.filter(pk=import_id, status__in=["parsing", "applying"]).update(
            status="failed", error="The import stopped unexpectedly; upload the file again.")


@shared_task(base=_ImportTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True, time_limit=600)
def csv_import_parse(import_id: int) -> str:
    """Read an uploaded CSV of companies or insights into a preview; a retry does nothing twice."""
    from . import services

    return services.csv_import_parse(import_id=import_id)


@shared_task(base=_ImportTask, acks_late=True, reject_on_worker_lost=True, max_retries=3,
             autoretry_for=(ConnectionError,), retry_backoff=True, time_limit=1800)
def csv_import_apply(import_id: int) -> str:
    """Write a confirmed CSV import; a retry does nothing twice."""
    from . import services

    return services.csv_import_apply(import_id=import_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, max_retries=3, autoretry_for=(ConnectionError,),
             retry_backoff=True, soft_time_limit=100, time_limit=120)
def inbound_email_file(email_id: int) -> str:
    """File a message received by the SMTP listener as an insight; a retry does nothing twice."""
    from . import services

    return services.inbound_email_file(email_id=email_id)


@shared_task(acks_late=True, max_retries=5, autoretry_for=(ConnectionError, OSError), retry_backoff=True,
             soft_time_limit=50, time_limit=60)
def portal_link_send(visitor_id: int, raw: str) -> None:
    """Mail a portal sign-in link."""
    from . import services

    services.portal_link_mail(visitor_id=visitor_id, raw=raw)


@shared_task(acks_late=True, max_retries=3, autoretry_for=(ConnectionError,), retry_backoff=True)
def ideas_ship_for_release(release_id: int) -> list:
    """A release shipped: ship the ideas linked to its work (and mail their people once)."""
    from . import services

    return services.ideas_ship_for_release(release_id=release_id)


@shared_task(acks_late=True, max_retries=3, autoretry_for=(ConnectionError,), retry_backoff=True)
def ideas_ship_for_story(story_id: int) -> list:
    """A story became done: ship the ideas whose linked stories are now all done (and mail once)."""
    from . import services

    return services.ideas_ship_for_story(story_id=story_id)


@shared_task(acks_late=True, max_retries=5, autoretry_for=(ConnectionError, OSError), retry_backoff=True)
def ideas_shipped_mail(idea_ids: list) -> int:
    """One e-mail per person about the ideas that shipped; ShippedMail rows make a retry send nothing twice."""
    from . import services

    return services.ideas_shipped_mail(idea_ids=idea_ids)
