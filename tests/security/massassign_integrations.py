"""Mass-assignment walk entries of the integrations app (format: Write in massassign.py)."""

from . import matrix_integrations as m
from .massassign import Write

WRITES = {
    "channel": Write(build=m._channel, bodies={
        "create": lambda c: {"workspace": c.workspace_id, "kind": "teams", "name": "#two",
                             "url": "https://acme.webhook.office.com/webhookb2/x", "events": ["story.created"]},
        "update": lambda c: {"version": c.version, "workspace": c.workspace_id, "name": "#renamed",
                             "events": ["story.updated"]},
        "send_test": lambda c: {}}),
    "github-repository": Write(build=m._repository, bodies={
        "create": lambda r: {"product": r.product_id, "full_name": "acme/second", "merge_status": ""},
        "update": lambda r: {"version": r.version, "merge_status": "", "token": "github_pat_new"}}),
}

WRITES.update({
    "jira-connection": Write(build=m._jira_connection, bodies={
        "create": lambda c: {"workspace": c.workspace_id, "kind": "cloud", "name": "Second Jira",
                             "base_url": "https://acme-two.atlassian.net", "email": "pm@acme.test", "token": "t"},
        "update": lambda c: {"version": c.version, "name": "Renamed Jira"},
        "test": lambda c: {}, "retry": lambda c: {}}),
    "jira-link": Write(build=m._jira_link, bodies={
        "create": lambda link: {"connection": link.connection_id, "product": _other_product(link).id,
                                "project_key": "TWO"},
        "update": lambda link: {"version": link.version, "jql": "issuetype = Story",
                                "field_rules": {"title": {"direction": "to_jira", "rule": "pmhub"}}},
        "preview": lambda link: {}, "run_import": lambda link: {}, "push": lambda link: {}},
        exempt={"run_import": "refused (400) until a preview is ready: nothing to assign; the preview-then-import "
                              "flow is tested in tests/integrations/test_jira.py"}),
})


def _other_product(link):
    from tests.roadmaps.factories import ProductFactory

    return ProductFactory(workspace=link.product.workspace)


WRITES.update({
    "github-app": Write(build=m._github_app, bodies={
        "create": lambda app: {"workspace": app.workspace_id, "name": "Second App", "app_id": 4243,
                               "private_key": _pem(), "webhook_secret": "second-secret-0123456789",
                               "product": app.product_id},
        "update": lambda app: {"version": app.version, "name": "Renamed App"}}),
    "github-issue-sync": Write(build=m._github_issue_sync, bodies={
        "create": lambda c: {"workspace": c.workspace_id, "product": c.links.first().product_id,
                             "repository": "acme/two", "token": "github_pat_matrix",
                             "api_url": "https://api.github.com"}}),
})


def _pem():
    from joserfc.jwk import RSAKey

    return RSAKey.generate_key(2048).as_pem(private=True).decode()
