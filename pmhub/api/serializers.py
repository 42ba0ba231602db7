import copy
import zoneinfo

from rest_framework import serializers

from ..models import Activity, BackgroundJob, Membership, Notification, Role, Workspace
from . import fields as bounded


def version_field(**kwargs) -> serializers.IntegerField:
    """`version` of an object with optimistic locking: returned on reads; on an update send the
    version you read (missing or stale: 409 with the current state); ignored on create."""
    return bounded.IntegerField(
        min_value=1, max_value=2_147_483_647, required=False,
        help_text="The version you read; required on update (missing or stale: 409 with the current state).",
        **kwargs)


# No docstring on purpose: drf-spectacular would print it as the description of every serializer
# that mixes it in (the OpenAPI document stays what the serializers themselves say).
class FieldsBuiltOnce:
    # For a serializer whose fields depend on its class alone (never on the request or the
    # instance): ModelSerializer.get_fields introspects the model and builds every field again for
    # each serializer, about 80 % of serializing one story (issue 23, decision 2022); a plain
    # Serializer deep-copies every declared field, three quarters of validating a story's body
    # (decision 2113). Here they are built once per class; each serializer binds its own shallow
    # copies (field name, parent, source are set on the copy); nested serializers and fields with a
    # child field (ListField, DictField: the child is bound to its parent) get deep copies. Put it
    # before ModelSerializer / Serializer.

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_fields_built")
        if built is None:
            built = super().get_fields()
            cls._fields_built = built
        return {name: _copy(field) for name, field in built.items()}


def _has_parts(field) -> bool:
    return (isinstance(field, serializers.BaseSerializer) or hasattr(field, "child")
            or hasattr(field, "child_relation"))


def _copy(field):
    """A field's copy for one serializer. A ListField or DictField of a plain child (a story's
    labels, score inputs, custom values, criteria) gets a shallow copy of itself and of its child,
    the child's parent set to the copy: what the deep copy gave (which builds both fields again
    from their arguments: about half of a story body's validation, decision 2304). Nested
    serializers and children with parts of their own: deep copies, as before."""
    if not _has_parts(field):
        return copy.copy(field)
    child = getattr(field, "child", None)
    if isinstance(field, serializers.BaseSerializer) or child is None or _has_parts(child):
        return copy.deepcopy(field)
    new = copy.copy(field)
    new.child = copy.copy(child)
    new.child.parent = new
    return new


class WorkspaceSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    member_count = bounded.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)

    class Meta:
        model = Workspace
        fields = ["id", "name", "slug", "time_zone", "created_at", "role", "member_count", "version"]
        read_only_fields = ["id", "slug", "created_at", "role", "member_count"]

    def get_role(self, obj) -> str | None:
        from ..access import role_in

        role = role_in(self.context["request"].user, obj.id)
        return Role(role).name.lower() if role else None


class WorkspaceWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    # A choice, so the schema lists the valid zones (a free string would promise more than we accept).
    time_zone = serializers.ChoiceField(choices=sorted(zoneinfo.available_timezones()), default="UTC")
    version = version_field()


class MemberSerializer(serializers.ModelSerializer):
    user_id = bounded.IntegerField(source="user.id", read_only=True)
    name = serializers.CharField(source="user.display_name", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Membership
        fields = ["id", "user_id", "name", "email", "role", "created_at"]

    def get_role(self, obj) -> str:
        return Role(obj.role).name.lower()


class ActivitySerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.display_name", default=None, read_only=True, allow_null=True)
    target_type = serializers.CharField(source="target_type.model", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Activity
        fields = ["id", "workspace", "actor", "verb", "target_type", "target_id", "target_repr", "data", "created_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "workspace", "kind", "title", "url", "data", "created_at", "read_at"]


class JobSerializer(serializers.ModelSerializer):
    percent = bounded.IntegerField(read_only=True)

    class Meta:
        model = BackgroundJob
        fields = ["id", "workspace", "kind", "status", "progress", "total", "percent", "message", "result",
                  "created_at", "finished_at"]


class WorkProgressSerializer(serializers.Serializer):
    """Work progress (backlog/progress.py; the shape lives in the core so every app's API can carry
    it): stories of the scope, excluded ones left out, done by
    the product's workflow category. `ratio` is by points when any story has points, else by
    count; `percent` is it in whole percent, rounded down; both null without stories."""

    done_points = serializers.IntegerField(read_only=True)
    total_points = serializers.IntegerField(read_only=True)
    done_count = serializers.IntegerField(read_only=True)
    total_count = serializers.IntegerField(read_only=True)
    ratio = serializers.FloatField(allow_null=True, read_only=True)
    percent = serializers.IntegerField(allow_null=True, read_only=True)
