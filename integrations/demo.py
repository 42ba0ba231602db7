"""Demo data of the integrations app: a paused Slack channel whose URL points nowhere reachable (the
demo must never post on `make run`), with a filled delivery log. Idempotent."""

from datetime import timedelta

from django.utils import timezone

from pmhub.secretbox import mask_url, seal
from reports.models import WebhookDelivery, WebhookEndpoint

from .models import Channel, GitHubDelivery, PullRequestLink, Repository

DEMO_URL = "https://hooks.slack.com/services/T0DEMO/B0DEMO/demo-not-a-real-hook"
EVENTS = ["story.created", "story.updated", "report.published"]


def seed(*, workspace, users) -> None:
    owner = users.get("demo") or next(iter(users.values()), None)
    if owner is None:
        return
    _seed_github(workspace=workspace, owner=owner)
    _seed_jira(workspace=workspace, owner=owner)
    _seed_github_issues(workspace=workspace, owner=owner)
    _seed_github_app(workspace=workspace, owner=owner)
    if Channel.objects.filter(workspace=workspace, name="#product-updates").exists():
        return
    from roadmaps.models import Product

    product = Product.objects.filter(workspace=workspace).order_by("id").first()
    # Paused from the start: the sweep and the worker never pick up a paused channel's deliveries.
    endpoint = WebhookEndpoint.objects.create(workspace=workspace, kind="slack", url="", events=EVENTS,
                                              description="#product-updates", active=False, created_by=owner)
    Channel.objects.create(workspace=workspace, product=product, endpoint=endpoint, kind="slack",
                           name="#product-updates", url_sealed=seal(DEMO_URL), url_hint=mask_url(DEMO_URL),
                           created_by=owner)
    now = timezone.now()
    site = "http://127.0.0.1:8000"
    rows = [
        ("channel.test", "success", 1, 200, 143, "", {"headline": "Test message",
                                                      "title": "PMHub can post to #product-updates"}),
        ("story.created", "success", 1, 200, 167, "", {"headline": "Story created", "title": "Export roadmap as PDF"}),
        ("story.updated", "success", 2, 200, 189, "", {"headline": "Story updated", "title": "Export roadmap as PDF"}),
        ("report.published", "failed", 7, 404, 98, "HTTP 404", {"headline": "Progress report published",
                                                                 "title": "Weekly stakeholder update"}),
    ]
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(endpoint=endpoint, event=event, status=status, attempts=attempts, response_status=code,
                        response_ms=ms, error=error, created_at=now - timedelta(hours=4 - i),
                        last_attempt_at=now - timedelta(hours=4 - i), next_attempt_at=now - timedelta(hours=4 - i),
                        payload={**summary, "facts": [], "context": workspace.name, "url": site + "/",
                                 "product_id": product.id if product else None})
        for i, (event, status, attempts, code, ms, error, summary) in enumerate(rows)])


def _seed_github(*, workspace, owner) -> None:
    """A repository connection with one merged pull request linked to a done story. Written directly
    (no delivery through the webhook): the demo's story keeps the status the backlog demo gave it."""
    import secrets

    from backlog.models import Story

    story = (Story.objects.filter(product__workspace=workspace, status="done").order_by("id").first()
             or Story.objects.filter(product__workspace=workspace).order_by("id").first())
    if story is None or Repository.objects.filter(workspace=workspace, full_name="acme/analytics-web").exists():
        return
    repository = Repository.objects.create(
        workspace=workspace, product=story.product, full_name="acme/analytics-web",
        hook_token=secrets.token_urlsafe(24), secret_sealed=seal(secrets.token_urlsafe(32)),
        merge_status="done" if story.status == "done" else "", last_delivery_at=timezone.now(), created_by=owner)
    PullRequestLink.objects.create(
        repository=repository, story=story, number=128, title=f"PMH-{story.id}: {story.title}"[:300],
        url="https://github.com/acme/analytics-web/pull/128", branch=f"feature/pmh-{story.id}",
        state=PullRequestLink.State.MERGED, checks="success", updated_at=timezone.now() - timedelta(days=1))
    GitHubDelivery.objects.bulk_create([
        GitHubDelivery(repository=repository, delivery_id="demo-1", event="pull_request",
                       outcome="pull request #128 open: 1 story linked",
                       received_at=timezone.now() - timedelta(days=3)),
        GitHubDelivery(repository=repository, delivery_id="demo-2", event="pull_request",
                       outcome="pull request #128 merged: 1 story linked",
                       received_at=timezone.now() - timedelta(days=1)),
    ])


def _seed_jira(*, workspace, owner) -> None:
    """A Jira connection (a fake site: the demo never talks to Jira) with the first product linked to
    its project ANA, a few stories mapped, and a sync log of every kind of line. The link is paused,
    so neither the reconcile nor a demo edit tries to reach the site."""
    import secrets

    from backlog.models import Story
    from roadmaps.models import Product

    from .jira.models import SYNC_FIELDS, JiraConnection, JiraIssueMap, JiraProjectLink, JiraSyncLog

    product = Product.objects.filter(workspace=workspace).order_by("id").first()
    if product is None or JiraConnection.objects.filter(workspace=workspace).exists():
        return
    now = timezone.now()
    connection = JiraConnection.objects.create(
        workspace=workspace, name="Acme Jira (demo)", kind="cloud", base_url="https://acme-demo.atlassian.net",
        email=owner.email, token_sealed=seal("demo-token-not-real"), hook_token=secrets.token_urlsafe(24),
        secret_sealed=seal(secrets.token_urlsafe(32)), health=JiraConnection.Health.OK, account_name="Demo PM",
        last_success_at=now - timedelta(minutes=3), created_by=owner)
    statuses = [{"id": "10000", "name": "To Do", "category": "new"}, {"id": "3", "name": "In Progress",
                "category": "indeterminate"}, {"id": "10001", "name": "In Review", "category": "indeterminate"},
                {"id": "10002", "name": "Done", "category": "done"}]
    link = JiraProjectLink.objects.create(
        connection=connection, product=product, project_key="ANA", project_id="10000", active=False,
        remote_statuses=statuses, points_field="customfield_10016",
        status_in={"10000": "ready", "3": "in_progress", "10001": "in_review", "10002": "done"},
        status_out={"idea": "10000", "ready": "10000", "in_progress": "3", "in_review": "10001", "done": "10002",
                    "wont_do": "10002"},
        field_rules={"description": {"direction": "to_jira", "rule": "pmhub"}},
        preview={"state": "done", "jql": "", "done": {"create": 4, "link": 2, "skip": 1}}, reconciled_at=now)
    stories = list(Story.objects.filter(product=product).order_by("rank")[:6])
    JiraIssueMap.objects.bulk_create([
        JiraIssueMap(link=link, remote_id=str(10100 + n), remote_key=f"ANA-{101 + n}", story=story,
                     remote_updated=now.isoformat(), fingerprints={f: ["demo", "demo"] for f in SYNC_FIELDS},
                     synced_at=now - timedelta(hours=n))
        for n, story in enumerate(stories)])
    first = stories[0] if stories else None
    second = stories[1] if len(stories) > 1 else first
    rows = [
        ("check", None, "Connection test", "", [], "ok", "", {"user": "Demo PM", "projects": ["ANA", "OPS"]}),
        ("import", None, "Import ANA", "", [], "ok", "", {"created": 4, "linked": 2, "skipped": 1}),
        ("out", first, None, "ANA-101", ["status"], "ok", "", {}),
        ("in", second, None, "ANA-102", ["labels", "title"], "ok", "", {}),
        ("in", first, None, "ANA-101", ["title"], "conflict", "", {"conflicts": {"title": {
            "pmhub": "Export roadmap as PDF", "jira": "Export roadmap (PDF)", "winner": "jira", "rule": "later"}}}),
        ("out", second, None, "ANA-102", [], "failed",
         "Jira refused the request (400): story points: Field cannot be set. It is not on the appropriate screen.", {}),
        ("in", second, None, "ANA-102", ["assignee"], "ok",
         "assignee: Jira assignee dev@contractor.example has no PMHub account here (not guessed)", {}),
        ("out", first, None, "ANA-101", ["release"], "ok", "", {}),  # its epic's release went as the fix version
    ]
    JiraSyncLog.objects.bulk_create([
        JiraSyncLog(connection=connection, link=link, at=now - timedelta(minutes=70 - 10 * i), direction=d,
                    story=story, object_label=(label or (story.title if story else ""))[:240], remote_key=key,
                    fields=fields, result=result, error=error, detail=detail)
        for i, (d, story, label, key, fields, result, error, detail) in enumerate(rows)])


def _seed_github_app(*, workspace, owner) -> None:
    """A recorded GitHub App (a generated key: the demo never talks to GitHub) with one installation."""
    import secrets

    from joserfc.jwk import RSAKey

    from roadmaps.models import Product

    from .github_sync.models import GitHubApp, GitHubInstallation

    product = Product.objects.filter(workspace=workspace).order_by("id").first()
    if product is None or GitHubApp.objects.filter(workspace=workspace).exists():
        return
    app = GitHubApp.objects.create(
        workspace=workspace, name="PMHub for Acme (demo)", app_id=123456, product=product, created_by=owner,
        private_key_sealed=seal(RSAKey.generate_key(2048).as_pem(private=True).decode()),
        webhook_secret_sealed=seal(secrets.token_urlsafe(32)), hook_token=secrets.token_urlsafe(24))
    GitHubInstallation.objects.create(app=app, installation_id=98765432, account_login="acme")


def _seed_github_issues(*, workspace, owner) -> None:
    """A GitHub issue sync (the same engine as Jira, decision 1720) of a fake repository with the
    second product: a paused link (the demo never talks to GitHub), mapped stories and a filled log."""
    import secrets

    from backlog.models import Story
    from roadmaps.models import Product

    from .jira.models import SYNC_FIELDS, JiraConnection, JiraIssueMap, JiraProjectLink, JiraSyncLog

    with_stories = Story.objects.filter(product__workspace=workspace).values("product_id")
    products = list(Product.objects.filter(workspace=workspace, id__in=with_stories).order_by("id")[:2])
    if not products or JiraConnection.objects.filter(workspace=workspace, kind=JiraConnection.Kind.GITHUB).exists():
        return
    product = products[-1]  # the second product with stories (the first is linked to the demo Jira)
    now = timezone.now()
    connection = JiraConnection.objects.create(
        workspace=workspace, name="GitHub acme/analytics-web (demo)", kind=JiraConnection.Kind.GITHUB,
        base_url="https://api.github.com", token_sealed=seal("github_pat_demo_not_real"),
        hook_token=secrets.token_urlsafe(24), secret_sealed=seal(secrets.token_urlsafe(32)),
        health=JiraConnection.Health.OK, account_name="demo-pm", last_success_at=now - timedelta(minutes=2),
        created_by=owner)
    statuses = [{"id": "open", "name": "Open", "category": "new"},
                {"id": "label:In review", "name": "In review", "category": "indeterminate"},
                {"id": "closed", "name": "Closed", "category": "done"}]
    link = JiraProjectLink.objects.create(
        connection=connection, product=product, project_key="acme/analytics-web", project_id="1296269",
        story_issue_type="Issue", active=False, remote_statuses=statuses,
        status_in={"open": "ready", "label:In review": "in_review", "closed": "done"},
        status_out={"idea": "open", "ready": "open", "in_progress": "open", "in_review": "label:In review",
                    "done": "closed", "wont_do": "closed"},
        field_rules={"points": {"direction": "once", "rule": "later"}, "epic": {"direction": "once", "rule": "later"}},
        user_map={owner.email.lower(): "demo-pm"},
        preview={"state": "done", "jql": "", "done": {"create": 3, "link": 1, "skip": 0}}, reconciled_at=now)
    stories = list(Story.objects.filter(product=product).order_by("rank")[:4])
    JiraIssueMap.objects.bulk_create([
        JiraIssueMap(link=link, remote_id=str(41 + n), remote_key=f"#{41 + n}", story=story,
                     remote_updated=now.isoformat(), fingerprints={f: ["demo", "demo"] for f in SYNC_FIELDS},
                     synced_at=now - timedelta(hours=n))
        for n, story in enumerate(stories)])
    first = stories[0] if stories else None
    second = stories[1] if len(stories) > 1 else first
    rows = [
        ("check", None, "Connection test", "", [], "ok", "", {"user": "demo-pm", "projects": ["acme/analytics-web"]}),
        ("import", None, "Import acme/analytics-web", "", [], "ok", "", {"created": 3, "linked": 1, "skipped": 0}),
        ("out", first, None, "#41", ["status"], "ok", "", {}),
        ("in", second, None, "#42", ["description", "labels"], "ok", "", {}),
        ("out", second, None, "#42", [], "retrying", "GitHub asked us to slow down (403, rate limit).", {}),
        ("in", first, None, "#41", ["title"], "conflict", "", {"conflicts": {"title": {
            "pmhub": "Funnel chart export", "jira": "Export the funnel chart", "winner": "jira", "rule": "later"}}}),
        ("in", second, None, "#42", ["assignee"], "ok",
         "assignee: GitHub assignee octo-contractor@users.noreply.github.com has no PMHub account here (not guessed)",
         {}),
    ]
    JiraSyncLog.objects.bulk_create([
        JiraSyncLog(connection=connection, link=link, at=now - timedelta(minutes=60 - 8 * i), direction=d,
                    story=story, object_label=(label or (story.title if story else ""))[:240], remote_key=key,
                    fields=fields, result=result, error=error, detail=detail)
        for i, (d, story, label, key, fields, result, error, detail) in enumerate(rows)])
