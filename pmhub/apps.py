from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class PmhubConfig(AppConfig):
    name = "pmhub"
    verbose_name = "PMHub core"

    def ready(self):
        from . import checks  # noqa: F401 - registers the deploy check of SECRET_KEY
        from .api.fields import use_in_model_serializers
        from .models import Notification

        _connect_token_cache()
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


def _connect_token_cache():
    """The API-token cache (pmhub/tokencache.py) holds the owner's row and the token's membership:
    forget the tokens whenever one of those, or the workspace, is saved or deleted."""
    from .models import ApiToken, Membership, User, Workspace
    from .tokencache import tokens_forget, tokens_forget_where

    def membership_changed(sender, instance, created=False, **kwargs):
        if created:
            return  # no cached token of this user names this workspace (none is cached without it)
        tokens_forget_where(user_id=instance.user_id, workspace_id=instance.workspace_id)

    def user_saved(sender, instance, update_fields=None, **kwargs):
        if update_fields is not None and set(update_fields) <= {"last_login"}:
            return  # signing in changes nothing the cache holds
        tokens_forget_where(user_id=instance.pk)

    def workspace_saved(sender, instance, created=False, **kwargs):
        if not created:
            tokens_forget_where(workspace_id=instance.pk)

    def token_changed(sender, instance, created=False, update_fields=None, **kwargs):
        if created or (update_fields is not None and set(update_fields) <= {"last_used_at"}):
            return  # a new token was never cached
        tokens_forget([instance.key_hash])

    for signal, sender, receiver in (
        (post_save, Membership, membership_changed), (post_delete, Membership, membership_changed),
        (post_save, User, user_saved), (post_delete, User, user_saved),
        (post_save, Workspace, workspace_saved),
        (post_save, ApiToken, token_changed), (post_delete, ApiToken, token_changed),
    ):
        signal.connect(receiver, sender=sender, weak=False,
                       dispatch_uid=f"pmhub.tokencache.{signal is post_save}.{sender.__name__}")


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
