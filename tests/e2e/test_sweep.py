"""The browser sweep: every page route (from the URL resolver, tests/e2e/sweep.py) opened with
the demo data as admin, editor and viewer at 390 px and 1440 px (one test per width, each in one
Chromium), several pages at a time. A page fails on a status other than 200, a console error, a failed request, sideways
overflow, a chart canvas that drew nothing, or visible text that looks like a raw value.

`make screenshots` runs it with PMHUB_SCREENSHOTS=1 to refresh docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from pmhub.models import Role, Workspace
from tests.services import CHROMIUM

from .conftest import SCREENSHOTS, WRITE_DOCS_SCREENSHOTS
from .sweep import ANONYMOUS, EXEMPT, MIN_ROLE, ROLE_RANK, DemoWorld, fill, page_routes, url_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1440)
HEIGHT = {390: 844, 1440: 900}
PARALLEL_PAGES = 6
ROLES = {Role.ADMIN: "admin", Role.EDITOR: "editor", Role.VIEWER: "viewer"}

# Visible text that means a raw value reached a person.
RAW_VALUE_PATTERNS = [
    (re.compile(r"\bNone\b"), "Python None"),
    (re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b"), "snake_case code"),
    (re.compile(r"\b\d+(?:\.\d+)? (?:count|percent|currency)\b"), "number with a unit code"),
    (re.compile(r"(?<![\d.])\d+\.0(?![\d.])\b"), "float with .0"),
    (re.compile(r"(?<![\d.])\d+\.\d{3,}(?![\d.])"), "unrounded decimal"),
    (re.compile(r"\s->\s"), "arrow between codes"),
]

# User-entered demo text that looks like a raw value but is what a person typed (reviewed).
DEMO_TEXT_ALLOWED = ("Dashboards 2.0", "2.0 Self-serve")

# The main pages whose screenshots `make screenshots` keeps in docs/screenshots/ (name: file stem).
SCREENSHOT_PAGES = {
    "workspace_home": "home", "roadmaps:product": "product-overview", "roadmaps:timeline": "roadmap-timeline",
    "roadmaps:board": "roadmap-board", "roadmaps:list": "roadmap-list", "roadmaps:objectives": "objectives",
    "backlog:list": "backlog", "backlog:board": "status-board", "backlog:story": "story", "backlog:scoring": "scoring",
    "delivery:iteration": "iteration", "metrics_kpi_detail": "kpi", "metrics_product_dashboard": "dashboard",
    "adoption": "adoption", "reports:preview": "report", "members": "members", "roadmaps:present": "presentation",
    "roadmaps:initiative_work": "initiative", "roadmaps:release": "release", "discovery:feedback": "feedback",
    "integrations:channels": "channels", "integrations:channel": "channel",
    "integrations:repositories": "github-repositories", "integrations:repository": "github-repository",
}

# Text of these elements is code or user input, not a value we formatted.
VISIBLE_TEXT_JS = """() => {
  const skip = new Set(["CODE", "PRE", "SCRIPT", "STYLE", "TEXTAREA", "TEMPLATE", "NOSCRIPT"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      for (let el = node.parentElement; el; el = el.parentElement) {
        if (skip.has(el.tagName) || el.hasAttribute("data-raw-ok")) return NodeFilter.FILTER_REJECT;
      }
      return NodeFilter.FILTER_ACCEPT;
    }});
  const parts = [];
  while (walker.nextNode()) parts.push(walker.currentNode.textContent);
  return parts.join(" ").replace(/\\s+/g, " ");
}"""

CHARTS_DRAWN_JS = """() => [...document.querySelectorAll("canvas")].filter((c) => c.offsetParent !== null)
  .every((c) => {
    if (!c.width || !c.height) return false;
    const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i]) return true;
    return false;
  })"""


@dataclass
class Visit:
    who: str
    width: int
    name: str
    url: str
    status: int = 200  # what this person should get (403 where the page needs a higher role)


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    visited: int = 0

    def add(self, visit: Visit, what: str):
        self.problems.append(f"{visit.name} [{visit.who} @ {visit.width}px] {visit.url}: {what}")


def _session_cookie(user) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}


async def _visit(context, visit: Visit, base: str, findings: Findings, screenshot: str | None):
    from playwright.async_api import Error as PlaywrightError

    page = await context.new_page()
    errors: list[str] = []
    # The browser logs the expected 403 of a page that needs a higher role: that one is not an error.
    page.on("console", lambda m: m.type == "error" and not (visit.status != 200 and str(visit.status) in m.text)
            and errors.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"script error: {e}"))
    closing = []  # requests cut off by closing the page are not failures of the page
    page.on("requestfailed", lambda r: not closing and errors.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and r.url != base + visit.url and r.status != visit.status
            and errors.append(f"request answered {r.status}: {r.url}"))
    try:
        response = await page.goto(base + visit.url, wait_until="load")
        findings.visited += 1
        if response is None or response.status != visit.status:
            findings.add(visit, f"status {response.status if response else 'none'}")
        try:
            await page.wait_for_function(CHARTS_DRAWN_JS, timeout=10000)
        except PlaywrightError:
            findings.add(visit, "a chart canvas drew nothing")
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            findings.add(visit, f"overflows sideways by {overflow}px")
        text = await page.evaluate(VISIBLE_TEXT_JS)
        for allowed in DEMO_TEXT_ALLOWED:
            text = text.replace(allowed, "")
        for pattern, label in RAW_VALUE_PATTERNS:
            hits = sorted({m.group(0) for m in pattern.finditer(text)})
            if hits:
                findings.add(visit, f"raw value ({label}): {hits[:5]}")
        if screenshot:  # the whole page on a desktop, the first screen on a phone (what a person sees first)
            await page.screenshot(path=screenshot, full_page=visit.width > 500)
    except PlaywrightError as exc:
        findings.add(visit, f"browser error: {exc}")
    finally:
        closing.append(True)
        for e in errors:
            findings.add(visit, e)
        await page.close()


async def _sweep(base: str, visits_by_context: dict, cookies: dict, findings: Findings, shots: dict):
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        gate = asyncio.Semaphore(PARALLEL_PAGES)
        tasks = []
        for (who, width), visits in visits_by_context.items():
            context = await browser.new_context(viewport={"width": width, "height": HEIGHT[width]})
            if cookies.get(who):
                await context.add_cookies([{**cookies[who], "url": base}])

            async def run(ctx=context, v=None):
                async with gate:
                    await _visit(ctx, v, base, findings, shots.get((v.who, v.width, v.name)))

            tasks += [run(v=v) for v in visits]
        await asyncio.gather(*tasks)
        await browser.close()


def _in_thread(coro_fn, *args):
    """Run the async sweep in a thread of its own: another test's sync Playwright may own this
    thread's event loop."""
    failure: list[BaseException] = []

    def target():
        try:
            asyncio.run(coro_fn(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


# One test per width, so `make test` sweeps both widths at once in two processes (each with its own
# server and database): one sweep keeps a single server process busy and leaves a core idle.
@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_every_page_reads_well_for_every_role_at_this_width(live_server, width):
    started = time.monotonic()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    world = DemoWorld.load()
    workspace = Workspace.objects.get(pk=world.workspace.pk)
    people = {}
    for role, who in ROLES.items():
        membership = workspace.memberships.filter(role=role).select_related("user").order_by("pk").first()
        assert membership is not None, f"seed_demo has no {who} in {workspace}"
        people[who] = membership.user
    from roadmaps.services import share_link_create

    _link, token = share_link_create(product=world.product, actor=people["admin"], label="Sweep", allow_present=True)

    # SWEEP_ONLY=backlog:board,backlog:iteration_board sweeps just those pages (while working on them).
    only = {n for n in os.environ.get("SWEEP_ONLY", "").split(",") if n}
    unfilled, pages = [], []
    for route in page_routes():
        if route.name in EXEMPT or (only and route.name not in only):
            continue
        if route.name in ("share:timeline", "share:present"):
            pages.append((route.name, url_for(route, {"token": token}), "anonymous"))
            continue
        try:
            kwargs = fill(route, world)
        except LookupError as exc:
            unfilled.append(str(exc))
            continue
        if kwargs is None:
            unfilled.append(f"{route.name}: the demo data (seed_demo) has nothing to show on this page; "
                            f"add some to <app>/demo.py.")
            continue
        pages.append((route.name, url_for(route, kwargs), "anonymous" if route.name in ANONYMOUS else "member"))

    if os.environ.get("SWEEP_ONLY"):  # e.g. SWEEP_ONLY=search,notifications: sweep just these pages
        only = set(os.environ["SWEEP_ONLY"].split(","))
        pages = [page for page in pages if page[0] in only]
    visits: dict = {}
    shots: dict = {}
    for name, url, kind in pages:
        for who in (["anonymous"] if kind == "anonymous" else list(people)):
            status = 403 if ROLE_RANK.get(who, 99) < ROLE_RANK[MIN_ROLE.get(name, "viewer")] else 200
            visits.setdefault((who, width), []).append(Visit(who, width, name, url, status))
            if WRITE_DOCS_SCREENSHOTS and who == "admin" and name in SCREENSHOT_PAGES:
                os.makedirs(SCREENSHOTS, exist_ok=True)
                shots[(who, width, name)] = os.path.join(SCREENSHOTS, f"{SCREENSHOT_PAGES[name]}-{width}.png")
    cookies = {who: _session_cookie(user) for who, user in people.items()}
    findings = Findings()
    _in_thread(_sweep, live_server.url, visits, cookies, findings, shots)

    elapsed = time.monotonic() - started
    total = sum(len(v) for v in visits.values())
    print(f"\nsweep: {len(pages)} pages, {total} visits (roles) at {width}px in {elapsed:.1f}s; "
          f"{len(findings.problems)} problems")
    report = sorted(findings.problems) + unfilled
    if os.environ.get("SWEEP_REPORT"):
        with open(os.environ["SWEEP_REPORT"], "w") as out:
            out.write("\n".join(report) + "\n")
    assert not report, f"{len(report)} problems:\n" + "\n".join(report)
    assert findings.visited == total
