from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self):
        # Channels subscribe to the same events as webhooks (pmhub.webhooks) and deliver through the
        # same outbox, retries and log (reports.WebhookDelivery); only the request differs.
        from pmhub.webhooks import webhook_emitted, webhook_kind_register

        from . import services

        webhook_emitted.connect(_webhook_emitted, dispatch_uid="integrations.channel_deliveries")
        from pmhub.panels import panel_register

        panel_register(place="story", template="integrations/_story_pull_requests.html", context=_story_pull_requests)
        for kind, label in (("slack", "Slack channel"), ("teams", "Teams channel")):
            webhook_kind_register(
                name=kind, label=label, build=services.channel_request_build, page=services.channel_page_path
            )
        # Jira: a story change of a linked product writes an outbox row in its own transaction
        # (docs/decisions/1713). A deleted story or epic leaves its mapping row without an object
        # (SET_NULL, no signal: deleting a product's 20,000 stories stays one statement); the
        # minute's sweep unlinks it, or deletes the issue if the admin chose that.
        from .jira import tasks as _jira_tasks  # noqa: F401 - registers the worker's Jira tasks

        webhook_emitted.connect(_jira_outbox, dispatch_uid="integrations.jira_outbox")
        # The receivers above ask a cached summary first (pmhub/subscribers.py): these writes change it.
        from pmhub.subscribers import subscribers_watch
        from reports.models import WebhookEndpoint

        from .jira.models import JiraProjectLink
        from .models import Channel

        subscribers_watch("channels", Channel, lambda channel: channel.workspace_id)
        subscribers_watch("channels", WebhookEndpoint, lambda endpoint: endpoint.workspace_id)
        subscribers_watch("jira", JiraProjectLink, _link_workspace)

        # GitHub issues sync through the same engine: its client and project keys (decision 1720).
        from django.db.models.signals import post_save, pre_save

        from .github_sync import services as github_sync

        github_sync.register()
        post_save.connect(github_sync.link_defaults, sender=JiraProjectLink, dispatch_uid="integrations.github_rules")
        pre_save.connect(github_sync.one_repository, sender=JiraProjectLink, dispatch_uid="integrations.github_one")


def _link_workspace(link):
    """The workspace of a Jira project link (None once its connection is gone: a deleted link left
    in a summary only costs the receiver its real query)."""
    from .jira.models import JiraConnection

    cached = link._state.fields_cache.get("connection")
    if cached is not None:
        return cached.workspace_id
    return JiraConnection.objects.filter(id=link.connection_id).values_list("workspace_id", flat=True).first()


def _webhook_emitted(sender, *, workspace_id, event, payloads, **kwargs):
    from .services import channel_deliveries_create

    channel_deliveries_create(workspace_id=workspace_id, event=event, payloads=payloads)


def _jira_outbox(sender, *, workspace_id, event, payloads, **kwargs):
    from .jira.sync import outbox_on_event

    outbox_on_event(workspace_id=workspace_id, event=event, payloads=payloads)


def _story_pull_requests(story, request):
    """The story page's panel: its key to put in a branch or title, and its linked pull requests."""
    from .github import story_key
    from .selectors import pull_requests_of_story

    return {"story_key": story_key(story.id), "pull_requests": pull_requests_of_story(story=story)}
