"""The SCIM compliance run: scim2-tester (a third party's checker, built on scim2-client) against
/scim/v2/ served by a real server (pytest-django's live_server), authenticated with a workspace's
SCIM token. It reads our ServiceProviderConfig, ResourceTypes and Schemas, builds its models from
them and then creates, reads, lists, searches, replaces, patches (add/remove/replace of every
attribute) and deletes Users and Groups. Every check must pass."""

from typing import Any

import httpx
import pytest
from scim2_client import BaseSyncSCIMClient
from scim2_tester import Status, check_server

from pmhub.models import Membership
from scim.models import ScimGroup, ScimUser

from .conftest import make_scim_token

pytestmark = pytest.mark.django_db(transaction=True)


class HttpxSCIMClient(BaseSyncSCIMClient):
    """scim2-client over `httpx` (its own engine wants the `httpx2` fork, which we do not install)."""

    def __init__(self, client: httpx.Client, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        url = self.client.build_request("GET", endpoint).url
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port) and url.raw_path.startswith(
            base.raw_path)

    def _parse_json(self, response):
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any):
        return self.client.request(method, url, **kwargs)


def _run(live_server, raw, **kwargs):
    with httpx.Client(base_url=live_server.url + "/scim/v2/", headers={"Authorization": f"Bearer {raw}"},
                      timeout=30) as http:
        return check_server(HttpxSCIMClient(http), raise_exceptions=False, **kwargs)


def _report(results) -> str:
    return "\n".join(f"{r.status.name} [{r.resource_type}] {r.title}: {r.reason}" for r in results
                     if r.status not in (Status.SUCCESS, Status.SKIPPED))


def test_scim2_tester_passes_every_check(live_server, workspace):
    _, raw = make_scim_token(workspace)
    results = _run(live_server, raw)
    failures = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    assert not failures, _report(results)
    passed = [r for r in results if r.status == Status.SUCCESS]
    assert len(passed) > 50  # the run really exercised users and groups
    titles = {r.title for r in passed}
    assert {"object_creation", "object_replacement", "object_deletion"} <= titles
    # It cleaned up after itself through DELETE: nothing of the run is left, and no one it
    # provisioned is still a member (only the workspace's admin is).
    assert not ScimUser.objects.filter(workspace=workspace).exists()
    assert not ScimGroup.objects.filter(workspace=workspace).exists()
    assert Membership.objects.filter(workspace=workspace).count() == 1
    skipped = [r for r in results if r.status == Status.SKIPPED]
    print(f"scim2-tester: {len(passed)} checks passed, {len(skipped)} skipped, of {len(results)}")
    for r in skipped:
        print(f"  skipped [{r.resource_type}] {r.title}: {r.reason}")


def test_scim2_tester_touches_only_the_tokens_workspace(live_server, workspace, other_workspace):
    _, raw = make_scim_token(workspace)
    before = Membership.objects.filter(workspace=other_workspace).count()
    _run(live_server, raw, resource_types=["Group"], include_tags={"crud:create"})
    assert ScimGroup.objects.filter(workspace=other_workspace).count() == 0
    assert ScimUser.objects.filter(workspace=other_workspace).count() == 0
    assert Membership.objects.filter(workspace=other_workspace).count() == before
