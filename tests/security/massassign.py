"""Mass-assignment helpers for every app's tests.

    payload = {"title": "ok"} | hostile_payload(Story, other_workspace=globex, other_user=outsider)
    before = protected_snapshot(story)
    api.patch(url, payload, format="json")            # 200 (fields ignored) or 400 (refused)
    assert protected_snapshot(story) == before

Protected: the primary key, every foreign key to a Workspace or a user, auto/created/updated
timestamps, `version`, `role`, `slug`, and any name listed in EXTRA_PROTECTED.
"""

import importlib
import pkgutil
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.db.models import Q

EXTRA_PROTECTED = {"id", "pk", "version", "role", "slug", "key_hash", "token_hash", "prefix", "score",
                   "created_at", "updated_at", "created_by", "owner", "last_used_at", "revoked_at", "accepted_at"}


def protected_fields(model) -> list[str]:
    names = []
    for f in model._meta.concrete_fields:
        related = getattr(f, "related_model", None)
        is_tenant_fk = related is not None and (related._meta.label in ("pmhub.Workspace", settings.AUTH_USER_MODEL))
        is_auto_time = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        if f.primary_key or is_tenant_fk or is_auto_time or f.name in EXTRA_PROTECTED:
            names.append(f.attname)
    return names


def protected_snapshot(obj) -> dict:
    row = type(obj)._base_manager.filter(pk=obj.pk).values(*protected_fields(type(obj))).first()
    assert row is not None, f"{obj!r} disappeared"
    return row


def hostile_payload(model, *, other_workspace, other_user) -> dict:
    """Values an attacker would send for every protected field (both `field` and `field_id`)."""
    payload = {"id": 10**9, "pk": 10**9}
    for f in model._meta.concrete_fields:
        related = getattr(f, "related_model", None)
        if related is not None and related._meta.label == "pmhub.Workspace":
            value = other_workspace.pk
        elif related is not None and related._meta.label == settings.AUTH_USER_MODEL:
            value = other_user.pk
        elif isinstance(f, models.DateTimeField):
            value = "2000-01-01T00:00:00Z"
        elif f.name in ("version", "score"):
            value = 999
        elif f.name == "role":
            value = 30
        elif f.name in EXTRA_PROTECTED:
            value = "pwned"
        else:
            continue
        payload[f.name] = value
        if f.is_relation:
            payload[f.attname] = value
    payload.setdefault("role", "admin")
    return payload


# --- the generated walk over every API write (test_mass_assignment_api.py) ------------------------
#
# Each app lists, per router basename, a valid body for every write action of the viewset in
# tests/security/massassign_<app>.py (discovered like the tenancy matrix's matrix_<app>.py):
#
#     WRITES = {
#         "story": Write(bodies={
#             "create": lambda s: {"product": s.product_id, "title": "New"},
#             "update": lambda s: {"title": "Renamed", "version": s.version},
#             "move": lambda s: {"after": _neighbour(s).id},
#         }, changes={"move": {"rank"}}),
#     }
#
# The walk sends each body with hostile values for every protected field of the model mixed in
# (ids, workspace, users, timestamps, computed fields, and ids of another workspace's objects for
# every relation). A field the write refuses (400 naming it, 409 for a forged version) is dropped
# and the body sent again; what finally passes must have ignored the rest.

HOSTILE_TIME = "2000-01-01T00:00:00Z"
HOSTILE_ID = 10**9

# Columns that the app computes (Celery, services, ranking): no write may set them.
COMPUTED = {
    "backlog.Story": {"rank": "0", "demand": 999, "done_at": HOSTILE_TIME},
    "backlog.CustomField": {"position": 999},
    "roadmaps.Release": {"released_at": HOSTILE_TIME},
    "roadmaps.ShareLink": {"expires_at": HOSTILE_TIME},
    "roadmaps.RoadmapSnapshot": {"data": {"initiatives": [{"id": 1, "title": "Pwned"}]}},
    "metrics.Kpi": {"current_value": 999, "current_at": "2000-01-01", "health": "on_track", "health_at": HOSTILE_TIME},
    "metrics.Measurement": {"source": "demo"},
    "metrics.ActionPlan": {"closed_at": HOSTILE_TIME, "closed_reason": "pwned"},
    "delivery.ChangeRequest": {"status": "approved", "points_delta": 999, "velocity": 999, "iteration_days": 999,
                               "date_impact_days": 999, "decided_at": HOSTILE_TIME},
    "delivery.ImportJob": {"status": "done", "created_count": 999, "finished_at": HOSTILE_TIME},
    "reports.WebhookEndpoint": {"secret": "pwned", "consecutive_failures": 999, "disabled_at": HOSTILE_TIME},
    "sso.IdentityProvider": {"client_secret_sealed": "pwned"},
    "sso.SsoDomain": {"verified_at": HOSTILE_TIME, "verification_token": "pwned"},
}
# Values that exist only in responses (annotations, properties): the response must not echo ours.
RESPONSE_COMPUTED = {
    "pmhub.Workspace": {"member_count": 999},
    "roadmaps.Initiative": {"progress": 0.999, "conflict": True},
    "roadmaps.KeyResult": {"progress": 0.999, "current": "999.0000"},
    "roadmaps.Release": {"progress": 0.999},
    "backlog.Epic": {"story_count": 999, "done_count": 999},
    "delivery.Iteration": {"committed_points": 999, "story_count": 999},
    "adoption.Feature": {"target": "999.0000"},
}
# Protected columns every successful write may change (optimistic locking, auto_now).
ALWAYS_CHANGES = {"version", "updated_at"}
TENANT_APPS = ("pmhub", "roadmaps", "backlog", "delivery", "metrics", "adoption", "discovery", "reports")
# Rows a request may touch without writing tenant data (token bookkeeping).
FINGERPRINT_SKIP = {"pmhub.ApiToken"}


@dataclass(frozen=True)
class Write:
    """The writes of one viewset (router basename).

    bodies: {action: body(obj) -> dict}, a valid body for every write action ("create",
        "update", "partial_update" defaults to the update body, @action names).
    build: obj in the workspace; default: the tenancy matrix's builder for the basename.
    builds: {action: build} for actions that need the object in another state.
    changes: {action: {column, ...}} protected columns the action sets by design (never to our value).
    multipart: actions whose body is a multipart form (file uploads).
    exempt: {action: reason} actions left out of the walk, with where they are tested instead.
    """

    bodies: dict[str, Callable[[Any], dict]] = field(default_factory=dict)
    build: Callable[[Any], Any] | None = None
    builds: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    changes: dict[str, set[str]] = field(default_factory=dict)
    multipart: frozenset[str] = frozenset()
    exempt: dict[str, str] = field(default_factory=dict)

    def body(self, action: str):
        if action in self.bodies:
            return self.bodies[action]
        if action == "partial_update":
            return self.bodies.get("update")
        return None


def load_writes() -> dict[str, Write]:
    """Merge WRITES of every tests/security/massassign_<app>.py."""
    writes: dict[str, Write] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name):
        if not info.name.startswith("massassign_"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        for basename, entry in getattr(module, "WRITES", {}).items():
            assert basename not in writes, f"WRITES[{basename!r}] is registered twice ({info.name})."
            writes[basename] = entry
    return writes


@dataclass(frozen=True)
class WriteRoute:
    basename: str
    viewset: Any
    action: str
    method: str
    detail: bool
    url_name: str

    @property
    def key(self) -> str:
        return f"{self.basename}.{self.action}"


def api_write_routes() -> list[WriteRoute]:
    """Every POST/PUT/PATCH the API router offers, one per (viewset, action)."""
    from pmhub.api.urls import router

    routes = []
    for _prefix, viewset, basename in router.registry:
        for r in router.get_routes(viewset):
            for method, action in r.mapping.items():
                if method in ("post", "put", "patch") and hasattr(viewset, action):
                    routes.append(WriteRoute(basename, viewset, action, method, r.detail,
                                             r.name.format(basename=basename)))
    return routes


# --- hostile values --------------------------------------------------------------------------------
def foreign_world(workspace) -> dict[str, Any]:
    """One object of every kind that writes refer to, in `workspace` (the other tenant), keyed by
    model label: the ids an attacker would slip into a write."""
    from adoption.models import Feature
    from backlog.models import Epic, Story
    from delivery.models import Iteration, IterationItem, ReleaseScopeItem
    from metrics.models import Kpi, KpiHealth
    from pmhub.models import BackgroundJob
    from reports.models import ReportSubscription
    from roadmaps.models import Capability, Competitor, Dependency, Initiative, KeyResult, Objective, Product, Release

    product = Product.objects.create(workspace=workspace, name="Their product")
    objective = Objective.objects.create(product=product, title="Their objective", start_date=date(2026, 10, 1),
                                         end_date=date(2026, 12, 31))
    release = Release.objects.create(product=product, name="Their release")
    initiative = Initiative.objects.create(product=product, title="Their initiative", release=release)
    initiative.objectives.add(objective)
    blocked = Initiative.objects.create(product=product, title="Their next initiative")
    Dependency.objects.create(blocker=initiative, blocked=blocked)
    epic = Epic.objects.create(product=product, title="Their epic", initiative=initiative, release=release)
    story = Story.objects.create(product=product, title="Their story", epic=epic, points=3)
    kpi = Kpi.objects.create(product=product, name="Their KPI")
    kpi.initiatives.add(initiative)
    kpi.epics.add(epic)
    KeyResult.objects.create(objective=objective, title="Their KR", target_value=10, kpi=kpi)
    iteration = Iteration.objects.create(product=product, name="Their sprint", start_date=date(2026, 11, 2),
                                         end_date=date(2026, 11, 13))
    IterationItem.objects.create(iteration=iteration, story=story)
    ReleaseScopeItem.objects.create(release=release, story=story)
    objects = [workspace, product, objective, release, initiative, epic, story, kpi, iteration,
               Competitor.objects.create(product=product, name="Their rival"),
               Capability.objects.create(product=product, name="Their capability"),
               KpiHealth.objects.create(kpi=kpi, status="off_track"),
               Feature.objects.create(product=product, key="their.feature", kpi=kpi),
               ReportSubscription.objects.create(workspace=workspace, product=product, name="Their report",
                                                 sections=["kpis"]),
               BackgroundJob.objects.create(workspace=workspace, kind="theirs", total=1)]
    objects += _foreign_discovery(product, story)
    objects += _foreign_integrations(workspace, product)
    return {type(o)._meta.label: o for o in objects}


def _foreign_integrations(workspace, product) -> list:
    """The other tenant's GitHub repository (integrations)."""
    import secrets

    from integrations.models import JiraConnection, JiraProjectLink, Repository

    jira = JiraConnection.objects.create(workspace=workspace, name="Their Jira", base_url="https://them.atlassian.net",
                                         token_sealed="sealed", hook_token=secrets.token_hex(16), secret_sealed="s")
    return [Repository.objects.create(workspace=workspace, product=product, full_name="them/their-repo",
                                      hook_token=secrets.token_hex(16), secret_sealed="sealed"),
            jira, JiraProjectLink.objects.create(connection=jira, product=product, project_key="THEM")]


def _foreign_discovery(product, story) -> list:
    """The other tenant's segment, company, person, insight, idea and highlight (discovery)."""
    from discovery.models import Company, Highlight, Idea, Insight, Person
    from roadmaps.models import Segment

    segment = Segment.objects.create(product=product, name="Their segment")
    company = Company.objects.create(product=product, name="Their company", domain="their.example", segment=segment)
    person = Person.objects.create(product=product, email="them@their.example", company=company)
    insight = Insight.objects.create(product=product, text="Their insight", person=person, company=company)
    idea = Idea.objects.create(product=product, title="Their idea", published=True)
    highlight = Highlight.objects.create(insight=insight, passage="Their passage", story=story, idea=idea)
    return [segment, company, person, insight, idea, highlight]


def _relations(model):
    """(field, is_many) for every relation the model holds (foreign keys and many-to-many)."""
    fields = [(f, False) for f in model._meta.concrete_fields if f.is_relation]
    return fields + [(f, True) for f in model._meta.many_to_many]


def hostile_fields(model, *, foreign: dict, other_user) -> dict:
    """hostile_payload plus computed columns and, for every relation, the other tenant's object:
    under the field's name and its attname (`epic`, `epic_id`; `stories`, `story_ids`)."""
    workspace = foreign["pmhub.Workspace"]
    payload = hostile_payload(model, other_workspace=workspace, other_user=other_user)
    for f, many in _relations(model):
        target = foreign.get(f.related_model._meta.label)
        if target is None or f.related_model._meta.label in ("pmhub.Workspace", settings.AUTH_USER_MODEL):
            continue
        if many:
            payload[f.name] = payload[f"{f.related_model._meta.model_name}_ids"] = [target.pk]
        else:
            payload[f.name] = payload[f.attname] = target.pk
    payload.update(COMPUTED.get(model._meta.label, {}))
    payload.update(RESPONSE_COMPUTED.get(model._meta.label, {}))
    payload["id"] = payload["pk"] = HOSTILE_ID  # a number, so a row with it would be a real row
    return payload


def hostile_by_column(model, hostile: dict) -> dict:
    """{attname or m2m name: the hostile value sent for it}."""
    columns = {}
    for f in model._meta.concrete_fields:
        for key in (f.name, f.attname):
            if key in hostile:
                columns[f.attname] = hostile[key]
    for f in model._meta.many_to_many:
        for key in (f.name, f"{f.related_model._meta.model_name}_ids"):
            if key in hostile:
                columns[f.name] = hostile[key]
    return columns


def landed(stored, sent) -> bool:
    """Whether a stored value is the hostile one we sent."""
    if stored is None or sent is None:
        return False
    if isinstance(stored, set):  # many-to-many ids
        return bool(stored & set(sent if isinstance(sent, list) else [sent]))
    if isinstance(stored, datetime | date):
        return stored.year == 2000
    if isinstance(stored, dict | list):  # JSON columns
        return stored == sent
    try:
        return Decimal(str(stored)) == Decimal(str(sent))
    except (InvalidOperation, ValueError):
        return str(stored) == str(sent)


def guarded_columns(model) -> list[str]:
    """Protected columns, computed columns and every foreign key (the links to other objects)."""
    computed = COMPUTED.get(model._meta.label, {})
    names = protected_fields(model)
    names += [f.attname for f in model._meta.concrete_fields
              if (f.name in computed or f.is_relation) and f.attname not in names]
    return names


def guarded_snapshot(obj) -> dict:
    """The protected and computed columns of the row, and its many-to-many links."""
    model = type(obj)
    row = model._base_manager.filter(pk=obj.pk).values(*guarded_columns(model)).first()
    assert row is not None, f"{obj!r} disappeared"
    for f in model._meta.many_to_many:
        row[f.name] = set(getattr(model._base_manager.get(pk=obj.pk), f.name).values_list("pk", flat=True))
    return row


# --- tenant fingerprint ----------------------------------------------------------------------------
def _workspace_paths(model, depth=4) -> list[str]:
    """For every foreign key of the model, the shortest path through it to pmhub.Workspace (not
    through users): a row linked to another tenant by any of its keys is seen from that tenant."""
    if model._meta.label == "pmhub.Workspace":
        return ["pk"]
    paths = []
    for f in model._meta.concrete_fields:
        if not f.is_relation or f.related_model._meta.label == settings.AUTH_USER_MODEL:
            continue
        if f.related_model._meta.label == "pmhub.Workspace":
            paths.append(f.name)
        elif f.related_model._meta.app_label in TENANT_APPS and depth > 1:
            below = [p for p in _workspace_paths(f.related_model, depth - 1) if p != "pk"]
            if below:
                paths.append(f"{f.name}__{min(below, key=lambda p: p.count('__'))}")
    return paths


def _tenant_models():
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.app_label in TENANT_APPS and model._meta.label not in FINGERPRINT_SKIP:
            paths = _workspace_paths(model)
            if paths:
                found.append((model, paths))
    return sorted(found, key=lambda mp: mp[0]._meta.label)


_TENANT_MODELS = None
_SENTINEL = -7_000_001  # stands for the workspace ids in the SQL compiled once per session
_TENANT_SQL: dict[int, tuple[list[str], str, list]] = {}
_PREPARED: dict[tuple, set[str]] = {}  # statements prepared, per database connection (and server process)


def _tenant_querysets(workspace_ids):
    global _TENANT_MODELS
    if _TENANT_MODELS is None:
        _TENANT_MODELS = _tenant_models()
    for model, paths in _TENANT_MODELS:
        q = Q()
        for p in paths:
            q |= Q(**{f"{p}__in": workspace_ids})
        yield model._meta.label, model._base_manager.filter(q).distinct().values()


def _tenant_sql(count: int):
    """One SELECT with a digest per table (row count and the sum of the rows' hashes)."""
    if count not in _TENANT_SQL:
        labels, parts, params = [], [], []
        for label, qs in _tenant_querysets([_SENTINEL - i for i in range(count)]):
            sql, qs_params = qs.query.sql_with_params()
            labels.append(label)
            parts.append(f"(SELECT count(*) || ':' || coalesce(sum(hashtext(t::text)::bigint), 0) FROM ({sql}) t)")
            params.extend(qs_params)
        _TENANT_SQL[count] = labels, "SELECT " + ", ".join(parts), params
    return _TENANT_SQL[count]


def tenant_rows(*workspaces) -> dict:
    """Every row that reaches the workspaces by any foreign key, as {model: digest}: a row of
    another tenant that gets linked to them (a scope item of their story) changes it too. One
    prepared statement on PostgreSQL (planned once per connection); tenant_rows_verbose() lists the
    rows themselves."""
    if connection.vendor != "postgresql":
        return tenant_rows_verbose(*workspaces)
    labels, sql, params = _tenant_sql(len(workspaces))
    name = f"pmhub_tenant_rows_{len(workspaces)}"
    with connection.cursor() as cursor:
        raw = connection.connection
        prepared = _PREPARED.setdefault((id(raw), raw.get_backend_pid()), set())
        if name not in prepared:
            slots = [f"${_SENTINEL - p + 1}" for p in params]
            assert all(isinstance(p, int) and _SENTINEL - len(workspaces) < p <= _SENTINEL for p in params)
            cursor.execute(f"PREPARE {name} AS " + sql % tuple(slots))
            prepared.add(name)
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(workspaces))})", [ws.pk for ws in workspaces])
        return dict(zip(labels, cursor.fetchone(), strict=True))


def tenant_rows_verbose(*workspaces) -> dict:
    """tenant_rows as the rows themselves (any database; slower)."""
    ids = [ws.pk for ws in workspaces]
    return {label: sorted(map(repr, qs)) for label, qs in _tenant_querysets(ids)}


@contextmanager
def nothing_changes(*workspaces):
    """Assert that no row of the workspaces changes inside the block (all or nothing)."""
    before = tenant_rows(*workspaces)
    yield
    after = tenant_rows(*workspaces)
    assert after == before, f"rows changed in: {sorted(k for k in before if before[k] != after[k])}"


def ids_of(world: list[dict], label: str) -> list[int]:
    """The ids of one model label in each of the foreign worlds (the `strangers` fixture)."""
    return [w[label].pk for w in world]


def names_all(response, field: str, ids) -> bool:
    """The 400 names every refused id in the field's errors."""
    message = " ".join(response.json()["errors"][field])
    return all(str(i) in message for i in ids)
