"""factory_boy factories of the core app. Apps add theirs in tests/<app>/factories.py."""

import factory

from pmhub.models import ApiToken, Membership, Role, User, Workspace, hash_secret

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.Sequence(lambda n: f"ws-{n}")
    time_zone = "UTC"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


def make_token(*, user, workspace, scope=ApiToken.Scope.WRITE, name="test") -> str:
    raw = ApiToken.generate_key()
    ApiToken.objects.create(user=user, workspace=workspace, name=name, scope=scope, prefix=raw[:12],
                            key_hash=hash_secret(raw))
    return raw
