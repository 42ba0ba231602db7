"""Tenancy-matrix entries of the integrations app. Format: see tests/security/README.md."""

from django.forms.models import model_to_dict

from integrations import services
from pmhub.models import Membership, Role

from .matrix import Exempt, Route

HOOK = "https://hooks.slack.com/services/T1/B1/matrix"


def _channel(ws):
    admin = Membership.objects.filter(workspace=ws, role=Role.ADMIN).select_related("user").first()
    if admin is None:
        from tests.factories import MembershipFactory, UserFactory

        admin = MembershipFactory(workspace=ws, user=UserFactory(), role=Role.ADMIN)
    return services.channel_create(user=admin.user, workspace=ws, kind="slack", name="#matrix", url=HOOK,
                                   events=["story.created"])


def _state(channel):
    """The channel, its delivery state and its log (a test message adds a delivery)."""
    from integrations.models import Channel

    row = Channel.objects.filter(pk=channel.pk).select_related("endpoint").first()
    if row is None:
        return None
    return (model_to_dict(row), model_to_dict(row.endpoint), row.endpoint.deliveries.count())


def _pull_request(ws):
    from backlog.models import Story
    from integrations.models import PullRequestLink

    repository = _repository(ws)
    story = Story.objects.create(product=repository.product, title="Linked")
    return PullRequestLink.objects.create(repository=repository, story=story, number=7, title="PMH-1 work",
                                          url="https://github.com/acme/matrix/pull/7")


API = {
    "pull-request": Route(build=_pull_request),
    "github-repository": Exempt(
        "Admin-only resource (as channel and webhook-endpoint): a viewer's GET is 403 where the matrix asserts 200. "
        "Outsider 404 and viewer 403 on the repository and its deliveries/, and the secret shown only in the "
        "connect response: tests/integrations/test_github.py (test_api_lists_a_storys_pull_requests_to_members_"
        "only, test_api_connect_shows_the_secret_once_and_never_again) and tests/integrations/test_tenancy.py."),
    "channel": Exempt(
        "Admin-only resource (as webhook-endpoint): retrieve and deliveries need Role.ADMIN, so a viewer's GET is "
        "403 where the matrix asserts 200. Outsider 404 on every method incl. deliveries/ and send-test/, viewer "
        "and editor 403 on every write with the row and its log unchanged: tests/integrations/test_tenancy.py."),
}

def _repository(ws):
    from tests.roadmaps.factories import ProductFactory

    admin = Membership.objects.filter(workspace=ws, role=Role.ADMIN).select_related("user").first()
    if admin is None:
        from tests.factories import MembershipFactory, UserFactory

        admin = MembershipFactory(workspace=ws, user=UserFactory(), role=Role.ADMIN)
    repository, _ = services.repository_connect(user=admin.user, product=ProductFactory(workspace=ws),
                                                full_name="acme/matrix")
    return repository


def _repository_state(repository):
    from integrations.models import Repository

    row = Repository.objects.filter(pk=repository.pk).first()
    return None if row is None else model_to_dict(row)


PAGES = {
    "integrations:channel": Route(build=_channel, payload=lambda c: {"action": "test"}, snapshot=_state),
    "integrations:repository": Route(build=_repository, payload=lambda r: {"action": "disconnect"},
                                     snapshot=_repository_state),
    "github_webhook": Exempt(
        "Inbound GitHub webhook: no session or token by design; the credential is the X-Hub-Signature-256 HMAC of "
        "the body with the repository's sealed secret, and the URL's random token only finds the repository. "
        "Unknown token 404, a forged, missing or other repository's signature 401, a replayed delivery id 200 "
        "'already processed'; each refusal changes nothing: tests/integrations/test_github.py."),
}


# --- Jira ------------------------------------------------------------------------------------------
JIRA_URL = "https://acme-matrix.atlassian.net"


def _admin_of(ws):
    admin = Membership.objects.filter(workspace=ws, role=Role.ADMIN).select_related("user").first()
    if admin is None:
        from tests.factories import MembershipFactory, UserFactory

        admin = MembershipFactory(workspace=ws, user=UserFactory(), role=Role.ADMIN)
    return admin.user


def _jira_connection(ws):
    from integrations.jira import services as jira

    connection, _ = jira.connection_create(user=_admin_of(ws), workspace=ws, kind="cloud", name="Matrix Jira",
                                           base_url=JIRA_URL, email="pm@acme.test", token="matrix-token")
    return connection


def _jira_link(ws):
    from integrations.jira import services as jira
    from tests.roadmaps.factories import ProductFactory

    return jira.link_create(user=_admin_of(ws), connection=_jira_connection(ws),
                            product=ProductFactory(workspace=ws), project_key="MTX")


def _jira_state(connection):
    from integrations.jira.models import JiraConnection, JiraProjectLink

    row = JiraConnection.objects.filter(pk=connection.pk).first()
    return None if row is None else (model_to_dict(row), JiraProjectLink.objects.filter(connection=row).count())


def _jira_link_state(link):
    from integrations.jira.models import JiraProjectLink

    row = JiraProjectLink.objects.filter(pk=link.pk).first()
    return None if row is None else model_to_dict(row)


_JIRA_ADMIN_ONLY = ("Admin-only resource (as channel and github-repository): a viewer's GET is 403 where the "
                    "matrix asserts 200. Outsider 404 and viewer/editor 403 on every method and action, nothing "
                    "changed: tests/integrations/test_jira_tenancy.py.")
API.update({
    "jira-connection": Exempt(_JIRA_ADMIN_ONLY),
    "jira-link": Exempt(_JIRA_ADMIN_ONLY),
    "jira-issue-link": Exempt(_JIRA_ADMIN_ONLY),
    "jira-sync-log": Exempt(_JIRA_ADMIN_ONLY),
})
PAGES.update({
    "integrations:jira_connection": Route(build=_jira_connection, payload=lambda c: {"action": "delete"},
                                          snapshot=_jira_state),
    "integrations:jira_link": Route(build=_jira_link,
                                    kwargs=lambda link: {"connection_id": link.connection_id, "link_id": link.id},
                                    payload=lambda link: {"action": "unlink"}, snapshot=_jira_link_state),
    "jira_webhook": Exempt(
        "Inbound Jira webhook: no session or token by design; the credential is the X-Hub-Signature HMAC-SHA256 "
        "of the body with the connection's sealed secret, the URL's random token only finds the connection. "
        "Unknown token 404, forged or missing signature 401, a replayed X-Atlassian-Webhook-Identifier 200 "
        "'already processed'; each refusal changes nothing: tests/integrations/test_jira_tenancy.py."),
})


# --- GitHub Apps and the GitHub issue sync (docs/decisions/1720, 1721) -------------------------------
def _github_app(ws):
    from joserfc.jwk import RSAKey

    from integrations.github_sync import services as github_sync
    from tests.roadmaps.factories import ProductFactory

    return github_sync.app_create(user=_admin_of(ws), workspace=ws, name="Matrix App", app_id=4242,
                                  private_key=RSAKey.generate_key(2048).as_pem(private=True).decode(),
                                  webhook_secret="matrix-secret-0123456789", product=ProductFactory(workspace=ws))


def _github_issue_sync(ws):
    from integrations.github_sync import services as github_sync
    from tests.roadmaps.factories import ProductFactory

    connection, _, _ = github_sync.issue_sync_create(user=_admin_of(ws), workspace=ws,
                                                     product=ProductFactory(workspace=ws), repository="acme/matrix",
                                                     token="github_pat_matrix")
    return connection


API.update({
    "github-app": Exempt(
        "Admin-only resource (as jira-connection): a viewer's GET is 403 where the matrix asserts 200. Outsider "
        "404 and viewer/editor 403 on every method, the key and secret never returned, bad input 400 with field "
        "errors and nothing saved: tests/integrations/test_github_tenancy.py."),
    "github-issue-sync": Exempt(
        "Create-only endpoint (no object route); another workspace's product or installation is refused and "
        "nothing is created, viewers/editors 403: tests/integrations/test_github_tenancy.py. The connection "
        "and link it creates are the jira-connection / jira-link rows above."),
})
def _github_app_state(app):
    from integrations.github_sync.models import GitHubApp

    row = GitHubApp.objects.filter(id=app.id).values("name", "private_key_sealed", "version").first()
    return row


PAGES.update({
    "integrations:github_app": Route(build=_github_app, kwargs=lambda app: {"app_id": app.id},
                                     payload=lambda app: {"action": "delete"}, snapshot=_github_app_state),
    "github_app_webhook": Exempt(
        "Inbound GitHub App webhook: no session or token by design; the credential is the X-Hub-Signature-256 "
        "HMAC of the body with the App's sealed webhook secret, the URL's random token only finds the App. "
        "Unknown token 404, forged signature 401, a replayed X-GitHub-Delivery 200 'already processed'; each "
        "refusal changes nothing: tests/integrations/test_github_app.py."),
    "github_issues_webhook": Exempt(
        "Inbound GitHub issues webhook of an issue sync: the credential is the X-Hub-Signature-256 HMAC with the "
        "connection's sealed secret. Unknown token 404, forged or tampered 401, replay 200 'already processed', "
        "nothing changed: tests/integrations/test_github_sync.py."),
})
