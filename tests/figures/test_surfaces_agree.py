"""Every figure that more than one surface shows is read from each surface and compared.

`SURFACES` is the table: figure -> the readers of the surfaces that show it (page, htmx/JSON
partial, API, report web page and e-mail, dashboards, share page). A reader takes the world
and returns {key: value} (key: the iteration, KPI, feature or product the figure belongs to);
every key that two readers return must have the same value on both. Adding a surface is one
line. The test runs on the demo (`seed_demo`) and on a generated workspace, with the clock
frozen; `test_the_table_counts` states how many figures and surfaces it covers (docs/figures.md).
"""

import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from adoption.models import Feature, UsageEvent
from adoption.rollups import rollup_range
from adoption.services import feature_kpis_sync
from backlog.models import Epic, Story
from delivery import services as delivery
from delivery.models import Iteration, StoryStatusEvent
from metrics.models import Kpi, Measurement
from metrics.services import kpi_refresh_current
from pmhub.models import Membership, Role, User, Workspace
from reports.rendering import report_render
from reports.services import report_build
from roadmaps.models import Dependency, Initiative, Product, Release
from roadmaps.services import share_link_create

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@dataclass
class World:
    workspace: Workspace
    product: Product
    user: User
    page: Client = field(init=False)
    api: APIClient = field(init=False)
    share_token: str = ""

    def __post_init__(self):
        self.page = Client()
        self.page.force_login(self.user)
        self.api = APIClient()
        self.api.force_authenticate(self.user)

    def url(self, name, **kwargs):
        return reverse(name, kwargs={"ws": self.workspace.slug, "product_id": self.product.id, **kwargs})

    def get(self, name, **kwargs):
        response = self.page.get(self.url(name, **kwargs))
        assert response.status_code == 200, (name, response.status_code)
        return response

    def api_get(self, path):
        response = self.api.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.json()

    def api_list(self, path):
        data, rows = self.api_get(path), []
        while True:
            rows += data["results"]
            if not data.get("next"):
                return rows
            data = self.api_get(data["next"])

    def report(self):
        return report_build(product=self.product, workspace=self.workspace, now=NOW)


def _section(report, key):
    return next(s["data"] for s in report["sections"] if s["key"] == key)


def _pct(value):
    """Percentages are compared as people read them: one decimal."""
    return None if value is None else round(float(value), 1)


# --- readers: world -> {key: value} -----------------------------------------------------------------
def iterations_page_committed(w):
    return {i.id: i.capacity["committed"] for i in w.get("delivery:iterations").context["iterations"]}


def iteration_page_committed(w):
    return {i: w.get("delivery:iteration", iteration_id=i).context["capacity"]["committed"]
            for i in Iteration.objects.filter(product=w.product).values_list("id", flat=True)}


def api_iterations_committed(w):
    return {i["id"]: i["committed_points"] for i in w.api_list(f"/api/v1/iterations/?product={w.product.id}")}


def api_burndown_committed(w):
    return {i: w.api_get(f"/api/v1/iterations/{i}/burndown/")["capacity"]["committed"]
            for i in Iteration.objects.filter(product=w.product).values_list("id", flat=True)}


def velocity_page(w, what):
    return {v["iteration_id"]: v[what] for v in w.get("delivery:iterations").context["velocity"]["iterations"]}


def velocity_api(w, what):
    return {v["iteration_id"]: v[what] for v in w.api_get(f"/api/v1/iterations/velocity/?product={w.product.id}")
            ["iterations"]}


def average_velocity_page(w):
    return {w.product.id: _pct(w.get("delivery:iterations").context["velocity"]["average"])}


def average_velocity_api(w):
    return {w.product.id: _pct(w.api_get(f"/api/v1/iterations/velocity/?product={w.product.id}")["average"])}


def average_velocity_release_page(w):
    release = Release.objects.filter(product=w.product).order_by("id").first()
    if release is None:
        return {}
    return {w.product.id: _pct(w.get("delivery:release_scope", release_id=release.id).context["velocity"]["average"])}


def _kpis(w):
    return Kpi.objects.filter(product=w.product)


def api_kpi_current(w):
    return {k["id"]: _pct(k["current_value"]) for k in w.api_list("/api/v1/kpis/") if k["product"] == w.product.id}


def kpi_page_current(w):
    return {k.id: _pct(w.get("metrics_kpi_detail", kpi_id=k.id).context["kpi"].current_value) for k in _kpis(w)}


def product_dashboard_json(w, what):
    data = w.page.get(w.url("metrics_product_dashboard_data")).json()
    return {k["id"]: what(k) for k in data["kpis"]}


def workspace_dashboard_json(w, what):
    data = w.page.get(reverse("metrics_workspace_dashboard_data", kwargs={"ws": w.workspace.slug})).json()
    return {k["id"]: what(k) for k in data["kpis"] if k["product"] == w.product.id}


def product_dashboard_tiles(w, what):
    return {t["id"]: what(t) for t in w.get("metrics_product_dashboard").context["tiles"]}


def report_kpi_current(w):
    return {k["id"]: _pct(k["current"]) for k in _section(w.report(), "kpis")["items"]}


def report_kpi_chart_current(w):
    """The report's KPI trend chart ends on the KPI's current value (its last point)."""
    return {int(c["id"].removeprefix("kpi-")): _pct(c["series"][0]["values"][-1])
            for c in _section(w.report(), "kpis")["charts"]}


def report_burn_committed(w):
    """The report's burn-down chart of a running iteration states its committed points."""
    return {int(c["id"].removeprefix("burn-")): c["committed"]
            for c in _section(w.report(), "releases")["charts"] if c["id"].startswith("burn-")}


def adoption_page(w, what):
    table = w.get("adoption").context["table"]
    return {r["feature"].id: what(r, table) for r in table["rows"]}


def feature_page(w, what):
    return {f.id: what(w.get("adoption_feature", feature_id=f.id).context["figures"])
            for f in Feature.objects.filter(product=w.product)}


def api_feature_adoption(w, what):
    return {f.id: what(w.api_get(f"/api/v1/features/{f.id}/adoption/"))
            for f in Feature.objects.filter(product=w.product)}


def dashboard_adoption(w):
    funnels = w.get("metrics_product_dashboard").context["funnels"]
    return {row["feature_id"]: _pct(row["adoption_7d"]) for _product, rows in funnels for row in rows}


def linked_kpi_adoption(w):
    """A feature's KPI holds its adoption % (the rollup writes it): the KPI's current value."""
    return {f.id: _pct(f.kpi.current_value) for f in Feature.objects.filter(product=w.product, kpi__isnull=False)
            .select_related("kpi")}


def timeline_counts(w):
    return {w.product.id: w.get("roadmaps:timeline").context["timeline"]["schedule_counts"]}


def share_counts(w):
    response = w.page.get(reverse("share:timeline", kwargs={"token": w.share_token}))
    assert response.status_code == 200
    return {w.product.id: response.context["timeline"]["schedule_counts"]}


def report_web_counts(w):
    response = w.page.get(reverse("reports:preview", kwargs={"ws": w.workspace.slug}) + f"?product={w.product.id}")
    return {w.product.id: _section(response.context["report"], "roadmap")["counts"]}


def report_email_counts(w):
    text = report_render(w.report(), fmt="text")
    found = re.search(r"(\d+) done, (\d+) on track, (\d+) at risk, (\d+) late", text)
    done, on_track, at_risk, late = map(int, found.groups())
    return {w.product.id: {"done": done, "on_track": on_track, "at_risk": at_risk, "late": late}}


def _money(value):
    """Customer demand is compared as pages show it: two decimals."""
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _asked_stories(w):
    """Stories some insight is highlighted for, and one without (its zeros must agree too)."""
    asked = list(Story.objects.filter(product=w.product, highlights__isnull=False).distinct().values_list("id", flat=True))
    plain = Story.objects.filter(product=w.product).exclude(id__in=asked).values_list("id", flat=True).first()
    return asked + ([plain] if plain else [])


def story_page_askers(w):
    """The story page's demand line (backlog.selectors.demand_of, discovery's askers by registry)."""
    out = {}
    for story_id in _asked_stories(w):
        d = w.get("backlog:story", story_id=story_id).context["demand"]
        out[story_id] = (d["customers"], d["feedback_count"], _money(d["demand"]))
    return out


def story_panel_askers(w):
    """The "Who asked" panel discovery adds to the story page (discovery.selectors.askers_of)."""
    out = {}
    for story_id in _asked_stories(w):
        a = w.get("backlog:story", story_id=story_id).context["askers"]
        out[story_id] = (len(a["companies"]), a["highlights"], _money(a["demand"]))
    return out


def api_story_askers(w):
    out = {}
    for story_id in _asked_stories(w):
        d = w.api_get(f"/api/v1/stories/{story_id}/")["demand_summary"]
        out[story_id] = (d["customers"], d["feedback_count"], _money(d["demand"]))
    return out


def epics_list_demand(w):
    return {e.id: _money(e.demand) for e in w.get("backlog:epics").context["epics"]}


def epics_list_demand_sorted(w):
    response = w.page.get(w.url("backlog:epics") + "?sort=demand")
    return {e.id: _money(e.demand) for e in response.context["epics"]}


def api_epics_demand(w):
    return {e["id"]: _money(e["demand"]) for e in w.api_list(f"/api/v1/epics/?product={w.product.id}")}


def epic_panel_demand(w):
    return {e: _money(w.get("backlog:epic", epic_id=e).context["askers"]["demand"])
            for e in Epic.objects.filter(product=w.product).values_list("id", flat=True)}


def _change(k):
    return (k["change"] or {}).get("text")


# --- the table ---------------------------------------------------------------------------------------
SURFACES = {
    "iteration committed points": {
        "iterations page": iterations_page_committed,
        "iteration plan page": iteration_page_committed,
        "API iterations": api_iterations_committed,
        "API burndown": api_burndown_committed,
        "iterations page, velocity table": lambda w: velocity_page(w, "committed"),
        "API velocity": lambda w: velocity_api(w, "committed"),
        "report burn-down chart": report_burn_committed,
    },
    "iteration completed points": {
        "iterations page, velocity table": lambda w: velocity_page(w, "completed"),
        "API velocity": lambda w: velocity_api(w, "completed"),
    },
    "average velocity": {
        "iterations page": average_velocity_page,
        "API velocity": average_velocity_api,
        "release scope page": average_velocity_release_page,
    },
    "KPI current value": {
        "API KPIs": api_kpi_current,
        "KPI page": kpi_page_current,
        "product dashboard data (htmx/JSON)": lambda w: product_dashboard_json(w, lambda k: _pct(k["current"])),
        "workspace dashboard data": lambda w: workspace_dashboard_json(w, lambda k: _pct(k["current"])),
        "product dashboard page": lambda w: product_dashboard_tiles(w, lambda k: _pct(k["current"])),
        "report": report_kpi_current,
        "report KPI trend chart": report_kpi_chart_current,
    },
    "KPI change": {
        "product dashboard data (htmx/JSON)": lambda w: product_dashboard_json(w, _change),
        "workspace dashboard data": lambda w: workspace_dashboard_json(w, _change),
        "product dashboard page": lambda w: product_dashboard_tiles(w, _change),
    },
    "KPI target": {
        "product dashboard data (htmx/JSON)": lambda w: product_dashboard_json(w, lambda k: k["target_text"]),
        "product dashboard page": lambda w: product_dashboard_tiles(w, lambda k: k["target_text"]),
        "KPI page": lambda w: {k.id: w.get("metrics_kpi_detail", kpi_id=k.id).context["kpi"].target_text
                               for k in _kpis(w)},
    },
    "adoption %": {
        "adoption page": lambda w: adoption_page(w, lambda r, t: _pct(r["percent"])),
        "feature page": lambda w: feature_page(w, lambda f: _pct(f.get("percent"))),
        "API feature adoption": lambda w: api_feature_adoption(w, lambda a: _pct(a["percent"])),
        "product dashboard page": dashboard_adoption,
        "linked KPI": linked_kpi_adoption,
    },
    "active users (7 days)": {
        "adoption page": lambda w: adoption_page(w, lambda r, t: t["active"]),
        "feature page": lambda w: feature_page(w, lambda f: f.get("active", 0)),
        "API feature adoption": lambda w: api_feature_adoption(w, lambda a: a["active"]),
    },
    "who asked for a story (companies, highlighted insights, customer demand)": {
        "story page": story_page_askers,
        "story page, Who asked": story_panel_askers,
        "API story": api_story_askers,
    },
    "customer demand of an epic": {
        "epics list": epics_list_demand,
        "epics list, by demand": epics_list_demand_sorted,
        "API epics": api_epics_demand,
        "epic page, Who asked": epic_panel_demand,
    },
    "on track / at risk / late": {
        "timeline page": timeline_counts,
        "share page": share_counts,
        "report web page": report_web_counts,
        "report e-mail": report_email_counts,
    },
}


def _canonical(value) -> str:
    return repr(sorted(value.items())) if isinstance(value, dict) else repr(value)


def _disagreements(world) -> tuple[list[str], int]:
    problems, compared = [], 0
    for figure, readers in SURFACES.items():
        by_key: dict = defaultdict(dict)
        for surface, read in readers.items():
            for key, value in read(world).items():
                by_key[key][surface] = value
        for key, values in by_key.items():
            if len(values) > 1:
                compared += 1
                if len({_canonical(v) for v in values.values()}) > 1:
                    problems.append(f"{figure} of {key}: {values}")
    return problems, compared


# --- the worlds ----------------------------------------------------------------------------------------
@pytest.fixture
def frozen():
    # The clock starts at NOW and ticks (new stories take rank keys from the clock; a stopped
    # clock would give two of them the same one); the test ends long before midnight anywhere.
    with time_machine.travel(NOW, tick=True):
        yield


def _world(workspace, product, user) -> World:
    world = World(workspace=workspace, product=product, user=user)
    _link, world.share_token = share_link_create(actor=user, product=product)
    return world


def test_the_surfaces_agree_on_the_demo(frozen):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115 - closed with the process
    workspace = Workspace.objects.get(slug="acme")
    user = User.objects.get(email="demo@pmhub.local")
    product = Product.objects.filter(workspace=workspace).order_by("id").first()
    problems, compared = _disagreements(_world(workspace, product, user))
    print(f"demo: {compared} figure values compared across surfaces")  # noqa: T201 - shown with -s
    assert problems == []
    assert compared >= 20


def _generated(seed: int) -> World:
    """A workspace in another time zone, built at random: iterations with carry-overs and
    mid-sprint removals, KPIs in both directions (and without target dates), a feature with
    a linked KPI and usage events, initiatives that are late or in a dependency conflict."""
    rng = random.Random(seed)
    workspace = Workspace.objects.create(name="Generated", slug=f"gen-{seed}", time_zone="America/Los_Angeles")
    tz = ZoneInfo(workspace.time_zone)
    user = User.objects.create(email=f"gen{seed}@pmhub.test", name="Gen")
    Membership.objects.create(user=user, workspace=workspace, role=Role.ADMIN)
    product = Product.objects.create(workspace=workspace, name="Gen product")
    today = NOW.astimezone(tz).date()

    stories = [Story.objects.create(product=product, title=f"S{n}", status="ready", points=rng.choice([1, 2, 3, 5, 8]))
               for n in range(24)]
    start = today - timedelta(days=40)
    for n in range(4):  # three finished sprints and the current one
        first = start + timedelta(days=10 * n)
        iteration = Iteration.objects.create(product=product, name=f"Sprint {n}", start_date=first,
                                             end_date=first + timedelta(days=9), capacity_points=rng.randint(10, 25))
        for story in stories[6 * n:6 * n + 6]:
            with time_machine.travel(datetime.combine(first - timedelta(days=1), time(12), tzinfo=tz)):
                delivery.iteration_add_story(actor=user, iteration=iteration, story_id=story.id)
            roll = rng.random()
            if roll < 0.5 and first + timedelta(days=9) < today:
                StoryStatusEvent.objects.create(product=product, story=story, old_status="ready", new_status="done",
                                                at=datetime.combine(first + timedelta(days=rng.randrange(9)), time(15),
                                                                    tzinfo=tz))
            elif roll < 0.7:  # taken out mid-sprint (or carried over, for a sprint that ended)
                out = min(first + timedelta(days=rng.randrange(4, 13)), today)
                with time_machine.travel(datetime.combine(out, time(1), tzinfo=tz)):
                    delivery.iteration_remove_story(actor=user, iteration=iteration, story_id=story.id)
    Release.objects.create(product=product, name="R1", release_date=today + timedelta(days=30))

    for n, direction in enumerate(["higher", "lower", "higher"]):
        kpi = Kpi.objects.create(product=product, name=f"KPI {n}", direction=direction,
                                 target_value=Decimal(rng.randint(10, 90)),
                                 target_date=None if n == 1 else today + timedelta(days=90))
        for back in range(0, 120, 5):
            Measurement.objects.create(kpi=kpi, period_start=today - timedelta(days=back),
                                       value=Decimal(rng.randint(10, 90)))
        kpi_refresh_current(kpi=kpi)

    adoption_kpi = Kpi.objects.create(product=product, name="Search adoption", unit="percent")
    Feature.objects.create(product=product, key="search", name="Search", kpi=adoption_kpi)
    Feature.objects.create(product=product, key="export", name="Export")
    events = []
    for back in range(21):
        day = today - timedelta(days=back)
        for actor in range(40):
            for key in ("search", "export"):
                if rng.random() < (0.5 if key == "search" else 0.2):
                    events.append(UsageEvent(product=product, event_id=f"{day}-{actor}-{key}", feature_key=key,
                                             actor=f"a{actor}", occurred_at=datetime.combine(day, time(9), tzinfo=tz)))
    UsageEvent.objects.bulk_create(events)
    rollup_range(product_id=product.id, first=today - timedelta(days=21), last=today, tz_name=workspace.time_zone)
    feature_kpis_sync(product_id=product.id, tz_name=workspace.time_zone)

    made = []
    for n in range(6):
        begin = today + timedelta(days=rng.randint(-60, 30))
        made.append(Initiative.objects.create(product=product, title=f"I{n}", status=rng.choice(
            ["planned", "in_progress", "done", "proposed"]), start_date=begin,
            end_date=begin + timedelta(days=rng.randint(10, 50))))
    Dependency.objects.create(blocker=made[0], blocked=made[1])
    Dependency.objects.create(blocker=made[2], blocked=made[3])
    return _world(workspace, product, user)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_surfaces_agree_on_a_generated_workspace(frozen, seed):
    problems, compared = _disagreements(_generated(seed))
    print(f"generated {seed}: {compared} figure values compared across surfaces")  # noqa: T201 - shown with -s
    assert problems == []
    assert compared >= 20


def test_a_disagreement_is_caught(frozen):
    """The check itself: a surface that shows another number fails."""
    world = _generated(3)
    SURFACES["iteration committed points"]["a wrong surface"] = lambda w: dict.fromkeys(Iteration.objects.filter(product=w.product).values_list("id", flat=True), -1)
    try:
        problems, _ = _disagreements(world)
    finally:
        del SURFACES["iteration committed points"]["a wrong surface"]
    assert problems and all(p.startswith("iteration committed points") for p in problems)


def test_the_table_counts():
    """The figures and surfaces the consistency test compares (reported in docs/figures.md)."""
    surfaces = {s for readers in SURFACES.values() for s in readers}
    assert (len(SURFACES), sum(len(r) for r in SURFACES.values()), len(surfaces)) == (11, 44, 30)
