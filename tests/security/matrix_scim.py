"""Tenancy-matrix entries of the scim app. Format: see tests/security/README.md."""

from django.forms.models import model_to_dict

from scim.models import ScimGroup, ScimToken, ScimUser

from .matrix import Exempt, Route

_PROTOCOL = ("SCIM 2.0 protocol endpoint for identity providers, authenticated by the workspace's SCIM bearer "
             "token (no session, no membership): a token of another workspace gets 404 on every method and "
             "changes nothing, a missing or revoked token 401: tests/scim/test_sessions_and_tenancy.py "
             "(test_a_token_never_sees_or_changes_another_workspaces_users_and_groups, "
             "test_a_missing_or_wrong_token_is_a_401, test_a_revoked_token_is_a_401_at_once).")


def _token(ws):
    from tests.scim.conftest import make_scim_token

    return make_scim_token(ws, name="matrix")[0]


def _token_state(token):
    row = ScimToken.objects.filter(pk=token.pk).first()
    return None if row is None else model_to_dict(row)


def _group(ws):
    from tests.factories import UserFactory

    group = ScimGroup.objects.create(workspace=ws, display_name="Matrix group")
    group.members.add(ScimUser.objects.create(workspace=ws, user=UserFactory(), user_name="matrix-member"))
    return group


def _group_state(group):
    row = ScimGroup.objects.filter(pk=group.pk).first()
    return None if row is None else (model_to_dict(row, exclude=["members"]), sorted(
        row.members.values_list("id", flat=True)))


API = {
    "scim-token": Exempt(
        "Admin-only resource (as channel): a viewer's GET is 403 where the matrix asserts 200. Outsider 404 on "
        "retrieve and DELETE (revoke), viewer and editor 403 with the token still live, the list showing only "
        "the workspaces one administers, the raw token only in the create response: "
        "tests/scim/test_tokens_api.py."),
    "scim-group": Exempt(
        "Admin-only resource: a viewer's GET is 403 where the matrix asserts 200. Outsider 404 on retrieve, PUT and "
        "PATCH, viewer and editor 403 with the role unchanged: tests/scim/test_tokens_api.py "
        "(test_group_role_api_is_for_admins_of_the_groups_workspace)."),
}

PAGES = {
    "scim:token_revoke": Route(build=_token, snapshot=_token_state),
    "scim:group": Route(build=_group, payload=lambda g: {"role": 30, "version": g.version}, snapshot=_group_state),
    "scim_resource_type": Exempt(_PROTOCOL),
    "scim_schema": Exempt(_PROTOCOL),
    "scim_user": Exempt(_PROTOCOL),
    "scim_group": Exempt(_PROTOCOL),
    "scim_not_found": Exempt(_PROTOCOL),
}
