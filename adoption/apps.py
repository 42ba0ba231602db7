from django.apps import AppConfig


class AdoptionConfig(AppConfig):
    name = "adoption"
    verbose_name = "Adoption and outcomes"

    def ready(self):
        from roadmaps.signals import release_shipped

        release_shipped.connect(release_shipped_open_reviews, dispatch_uid="adoption.release_shipped")


def release_shipped_open_reviews(sender, release, actor=None, **kwargs):
    """A release shipped: record KPI baselines once the shipping transaction has committed."""
    from .tasks import outcome_reviews_open

    outcome_reviews_open.delay_on_commit(release.id)
