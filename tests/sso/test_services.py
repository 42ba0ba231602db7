"""The protocol-independent sign-in (sso.services.sign_in_from_identity), domain routing and the
password refusal for domains that require single sign-on."""

import pytest
from django.core.exceptions import ValidationError

from pmhub.models import Activity, Membership, Role, User
from pmhub.signin import password_refusal
from sso import services
from sso.models import SsoDomain, SsoIdentity
from sso.services import SignInRefused
from tests.factories import MembershipFactory, UserFactory

from .factories import IdentityProviderFactory, SsoDomainFactory

GROUPS = [{"group": "pm-admins", "role": Role.ADMIN}, {"group": "pm-editors", "role": Role.EDITOR}]


@pytest.fixture
def provider(workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    return IdentityProviderFactory(workspace=workspace, group_roles=GROUPS)


def _sign_in(provider, *, subject="sub-1", email="ada@acme.test", groups=()):
    return services.sign_in_from_identity(provider, subject=subject, email=email, name="Ada", groups=list(groups))


@pytest.mark.django_db
def test_unknown_person_gets_a_just_in_time_account_with_the_mapped_role(provider, workspace):
    user = _sign_in(provider, groups=["pm-editors", "other"])
    assert user.email == "ada@acme.test" and user.name == "Ada" and not user.has_usable_password()
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.EDITOR
    identity = SsoIdentity.objects.get(provider=provider, subject="sub-1")
    assert identity.user == user and identity.last_login_at is not None and identity.granted_role == Role.EDITOR


@pytest.mark.django_db
def test_highest_mapped_role_wins_and_no_mapped_group_gives_the_default_role(provider, workspace):
    assert services.role_from_groups(group_roles=GROUPS, default_role=Role.VIEWER,
                                     groups=["pm-editors", "pm-admins"]) == Role.ADMIN
    user = _sign_in(provider, groups=["unmapped"])
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.VIEWER


@pytest.mark.django_db
def test_role_follows_the_groups_at_every_sign_in_and_overrides_a_manual_raise(provider, workspace, admin):
    user = _sign_in(provider, groups=["pm-editors"])
    membership = Membership.objects.get(user=user, workspace=workspace)
    membership.role = Role.ADMIN  # raised by hand
    membership.save()
    _sign_in(provider, groups=["pm-editors"])
    assert Membership.objects.get(pk=membership.pk).role == Role.EDITOR
    _sign_in(provider, groups=["pm-admins"])
    assert Membership.objects.get(pk=membership.pk).role == Role.ADMIN
    assert Activity.objects.filter(workspace=workspace, verb="role set by single sign-on").count() == 2


@pytest.mark.django_db
def test_without_a_group_table_an_existing_role_is_left_as_the_admins_set_it(workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    provider = IdentityProviderFactory(workspace=workspace, group_roles=[], default_role=Role.VIEWER)
    user = UserFactory(email="ada@acme.test")
    MembershipFactory(user=user, workspace=workspace, role=Role.EDITOR)
    _sign_in(provider, groups=["anything"])
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.EDITOR


@pytest.mark.django_db
def test_the_last_admin_is_never_demoted_by_a_sign_in(provider, workspace):
    user = UserFactory(email="ada@acme.test")
    MembershipFactory(user=user, workspace=workspace, role=Role.ADMIN)
    _sign_in(provider, groups=[])
    assert Membership.objects.get(user=user, workspace=workspace).role == Role.ADMIN


@pytest.mark.django_db
def test_existing_account_is_linked_by_email_then_found_by_subject(provider, workspace):
    user = UserFactory(email="ada@acme.test")
    assert _sign_in(provider, email="ADA@acme.test") == user
    # The provider renames the address: the link by subject still reaches the same account.
    assert _sign_in(provider, email="ada.lovelace@acme.test") == user
    assert User.objects.filter(email__endswith="@acme.test").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("domain_state", ["absent", "unverified", "other_workspace"])
def test_address_outside_the_workspaces_verified_domains_is_refused(workspace, other_workspace, domain_state):
    provider = IdentityProviderFactory(workspace=workspace)
    if domain_state == "unverified":
        SsoDomainFactory(workspace=workspace, domain="acme.test", verified_at=None)
    elif domain_state == "other_workspace":
        SsoDomainFactory(workspace=other_workspace, domain="acme.test")
    with pytest.raises(SignInRefused) as refused:
        _sign_in(provider)
    assert refused.value.code == "domain_not_verified"
    assert not User.objects.filter(email="ada@acme.test").exists()
    SsoDomain.objects.filter(domain="acme.test").delete()
    SsoDomainFactory(workspace=workspace, domain="acme.test")  # the twin: verified here, accepted
    assert _sign_in(provider).email == "ada@acme.test"


@pytest.mark.django_db
def test_deactivated_account_is_refused(provider):
    user = UserFactory(email="ada@acme.test", is_active=False)
    with pytest.raises(SignInRefused) as refused:
        _sign_in(provider)
    assert refused.value.code == "deactivated"
    assert not SsoIdentity.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_disabled_provider_and_no_jit_are_refused(provider):
    provider.jit_enabled = False
    provider.save()
    with pytest.raises(SignInRefused) as refused:
        _sign_in(provider)
    assert refused.value.code == "no_account"
    provider.enabled = False
    provider.save()
    with pytest.raises(SignInRefused) as refused:
        _sign_in(provider)
    assert refused.value.code == "provider_disabled"


@pytest.mark.django_db
def test_domain_routing_finds_the_enabled_providers_of_the_verified_domain(workspace, other_workspace):
    SsoDomainFactory(workspace=workspace, domain="acme.test")
    SsoDomainFactory(workspace=other_workspace, domain="globex.test", verified_at=None)
    okta = IdentityProviderFactory(workspace=workspace, name="Okta")
    assert services.provider_for_email("Ada@ACME.test") == okta
    entra = IdentityProviderFactory(workspace=workspace, name="Entra")
    IdentityProviderFactory(workspace=workspace, name="Old", enabled=False)
    IdentityProviderFactory(workspace=other_workspace, name="Globex")
    assert services.providers_for_email("ada@acme.test") == [entra, okta]
    assert services.provider_for_email("ada@acme.test") is None  # a choice to make
    assert services.providers_for_email("bob@globex.test") == []
    assert services.providers_for_email("not-an-address") == []


@pytest.mark.django_db
def test_group_table_is_validated_and_bounded():
    assert services.group_roles_clean([{"group": " a ", "role": "admin"}]) == [{"group": "a", "role": Role.ADMIN}]
    for bad in ("x", [{"group": "", "role": 10}], [{"group": "a", "role": 99}], [{"group": "a", "role": 10, "x": 1}],
                [{"group": "a", "role": 10}, {"group": "a", "role": 20}],
                [{"group": f"g{i}", "role": 10} for i in range(51)]):
        with pytest.raises(ValidationError):
            services.group_roles_clean(bad)


@pytest.mark.django_db
def test_password_is_refused_when_the_domain_requires_sso_and_break_glass_admins_keep_it(
        workspace, admin, editor, settings):
    domain = SsoDomainFactory(workspace=workspace, domain="acme.test")
    assert password_refusal(editor) is None  # verified but not required
    domain.require_sso = True
    domain.save()
    assert "single sign-on" in password_refusal(editor)
    assert password_refusal(admin) is not None
    settings.SSO_BREAK_GLASS_EMAILS = ["Admin@acme.test", "editor@acme.test"]
    assert password_refusal(admin) is None
    assert password_refusal(editor) is not None  # listed but not an admin of the workspace


@pytest.mark.django_db
def test_domain_is_verified_by_its_txt_record_once_across_workspaces(workspace, other_workspace, admin, settings):
    other_admin = UserFactory()
    MembershipFactory(user=other_admin, workspace=other_workspace, role=Role.ADMIN)
    mine = services.domain_create(user=admin, workspace_id=workspace.id, domain="Acme.TEST.")
    theirs = services.domain_create(user=other_admin, workspace_id=other_workspace.id, domain="acme.test")
    assert mine.domain == "acme.test" and mine.verified_at is None
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": ["v=spf1 -all"]}
    with pytest.raises(ValidationError):
        services.domain_verify(user=admin, domain=mine)
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": [mine.txt_record]}
    assert services.domain_verify(user=admin, domain=mine).verified_at is not None
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": [mine.txt_record, theirs.txt_record]}
    with pytest.raises(ValidationError):
        services.domain_verify(user=other_admin, domain=theirs)
    theirs.refresh_from_db()
    assert theirs.verified_at is None


@pytest.mark.django_db
def test_operator_verifies_a_domain_from_the_command_line(workspace, settings):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    domain = SsoDomainFactory(workspace=workspace, domain="acme.test", verified_at=None)
    settings.SSO_DNS_TXT_OVERRIDES = {"acme.test": []}
    with pytest.raises(CommandError, match="No TXT record"):
        call_command("sso_verify_domain", "acme.test", workspace=workspace.slug)
    call_command("sso_verify_domain", "ACME.test", workspace=workspace.slug, force=True, stdout=io.StringIO())
    domain.refresh_from_db()
    assert domain.verified_at is not None
    assert Activity.objects.filter(workspace=workspace, verb="verified sign-in domain", actor=None).exists()
