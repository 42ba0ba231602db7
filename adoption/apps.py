from django.apps import AppConfig


class AdoptionConfig(AppConfig):
    name = "adoption"
    verbose_name = "Adoption and outcomes"

    def ready(self):
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "adoption.feature.created": "A tracked feature was created.",
            "adoption.feature.updated": "A tracked feature changed.",
            "adoption.outcome_review.opened": "A shipped release opened an outcome review.",
        })

        from roadmaps.signals import release_shipped

        release_shipped.connect(release_shipped_open_reviews, dispatch_uid="adoption.release_shipped")


def release_shipped_open_reviews(sender, release, actor=None, **kwargs):
    """A release shipped: record KPI baselines once the shipping transaction has committed."""
    from .tasks import outcome_reviews_open

    outcome_reviews_open.delay_on_commit(release.id)
