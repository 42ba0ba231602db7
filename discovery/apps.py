from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    name = "discovery"
    verbose_name = "Discovery"

    def ready(self):
        from . import search

        search.register()
        from pmhub.webhooks import webhook_events_register

        webhook_events_register(app=self.name, events={
            "discovery.company.created": "A company was added (by hand, the API, an upsert or an import).",
            "discovery.company.updated": "A company's fields changed.",
            "discovery.insight.created": "An insight was filed by hand.",
            "discovery.insights.filed": "A batch of insights arrived (API, e-mail, form or CSV): product and count.",
            "discovery.insight.updated": "An insight's state, owner or text changed.",
            "discovery.idea.shipped": "A portal idea moved to shipped (its linked work shipped, or by hand).",
        })
        from roadmaps.signals import release_shipped

        release_shipped.connect(release_shipped_ship_ideas, dispatch_uid="discovery.release_shipped")
        from backlog.signals import story_status_changed

        story_status_changed.connect(story_done_ship_ideas, dispatch_uid="discovery.story_done")
        from backlog.demand import askers_provider_register, demand_provider_register, epic_demand_provider_register

        from .selectors import epics_demand, story_askers, story_askers_from_rows, story_askers_rows, story_demand

        demand_provider_register("discovery.highlights", story_demand)
        # Who asked for a story (the story page's demand line and the story API) and each epic's demand
        # (the epics list's column): the same figures as discovery's "Who asked" panels (decision 1613).
        askers_provider_register("discovery.highlights", story_askers, rows=story_askers_rows,
                                  from_rows=story_askers_from_rows)
        epic_demand_provider_register("discovery.highlights", epics_demand)
        from pmhub.panels import panel_register

        # "Who asked" on the backlog's story and epic pages (the backlog never imports discovery).
        panel_register(place="story", template="discovery/_askers_panel.html", context=story_askers_panel)
        panel_register(place="epic", template="discovery/_askers_panel.html", context=epic_askers_panel)
        # Adoption among the askers beside adoption among everyone, on adoption's outcome review.
        panel_register(place="outcomes", template="discovery/_outcome_askers_panel.html",
                       context=outcome_askers_panel)


def release_shipped_ship_ideas(sender, release, actor=None, **kwargs):
    """A release shipped: ship the ideas linked to its work once the transaction has committed."""
    from .tasks import ideas_ship_for_release

    ideas_ship_for_release.delay_on_commit(release.id)


def story_done_ship_ideas(sender, story, old_status=None, new_status=None, **kwargs):
    """A story's status changed: once it is done (done_at set by backlog's workflow), the worker
    ships the ideas whose linked stories are all done, after the transaction commits."""
    if story.done_at is None:
        return
    from .tasks import ideas_ship_for_story

    ideas_ship_for_story.delay_on_commit(story.id)


def story_askers_panel(story, request):
    from backlog.selectors import settings_of

    from .selectors import askers_of

    return {"askers": askers_of(story=story, weights=settings_of(story.product).segment_weights)}


def epic_askers_panel(epic, request):
    from backlog.selectors import settings_of

    from .selectors import askers_of

    return {"askers": askers_of(epic=epic, weights=settings_of(epic.product).segment_weights)}


def outcome_askers_panel(product, request):
    from .selectors import outcome_askers_adoption

    return {"askers_rows": outcome_askers_adoption(product=product)}
