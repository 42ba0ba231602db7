from django.apps import AppConfig
from django.db.models.signals import post_delete


class PmhubConfig(AppConfig):
    name = "pmhub"
    verbose_name = "PMHub core"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy check of SECRET_KEY
        from .api.fields import use_in_model_serializers
        from .models import Notification

        use_in_model_serializers()
        _search_register_people()
        post_delete.connect(_notification_deleted, sender=Notification, dispatch_uid="pmhub.unread_forget")
        from .live import connect_signals as live_connect_signals

        live_connect_signals()  # every emitted event also goes to the live pages (pmhub/live.py)


def _notification_deleted(sender, instance, **kwargs):
    """A deleted notification (a cascade from its workspace or recipient) changes the cached
    unread count (pmhub.selectors.unread_count)."""
    from .selectors import unread_forget

    unread_forget(instance.recipient_id)


def _search_register_people():
    """People: the members of the user's workspaces, by name and e-mail (one hit per workspace)."""
    from django.urls import reverse

    from .models import Membership
    from .search import Searchable, search_register

    def show(row):
        name = row["user__name"] or row["user__email"].split("@")[0]
        return (name, f"{row['user__email']} · {row['workspace__name']}",
                reverse("members", kwargs={"ws": row["workspace__slug"]}))

    search_register(Searchable(
        kind="person", label="Person", order=70,
        queryset=lambda: Membership.objects.filter(user__is_active=True),
        title="user__name", text=("user__email",), workspace="workspace",
        values=("id", "user__name", "user__email", "workspace__slug", "workspace__name"), show=show,
    ))
