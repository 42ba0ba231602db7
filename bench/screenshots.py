"""Refresh the roadmap screenshots in docs/screenshots/ from the demo, and check 390 px layouts.

Not part of `make test` (tests must not rewrite tracked files). Run it by hand against a database
that has the demo (`manage.py migrate && manage.py seed_demo`):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmhub_demo .venv/bin/python bench/screenshots.py

It starts `manage.py runserver` on a free port, signs in as the demo user with Chromium (Playwright),
writes timeline, board, release and initiative pages at 1440 px, and fails when a changed page
scrolls sideways at 390 px.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _demo_urls() -> dict[str, str]:
    """Paths of the pages to capture, from the demo's rows."""
    import django

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pmhub.settings")
    django.setup()
    from django.urls import reverse

    from roadmaps.models import Initiative, Product, Release

    product = Product.objects.select_related("workspace").get(workspace__slug="acme", name="Acme Analytics")
    kw = {"ws": product.workspace.slug, "product_id": product.id}
    release = Release.objects.get(product=product, name="2.0 Self-serve")
    initiative = Initiative.objects.get(product=product, title="Dashboard builder")
    epic = initiative.epics.order_by("id").first()
    return {
        "timeline": reverse("roadmaps:timeline", kwargs=kw),
        "board": reverse("roadmaps:board", kwargs=kw),
        "list": reverse("roadmaps:list", kwargs=kw),
        "releases": reverse("roadmaps:releases", kwargs=kw),
        "release": reverse("roadmaps:release", kwargs=kw | {"release_id": release.id}),
        "release-scope": reverse("delivery:release_scope", kwargs=kw | {"release_id": release.id}),
        "initiative": reverse("roadmaps:initiative_work", kwargs=kw | {"initiative_id": initiative.id}),
        "objectives": reverse("roadmaps:objectives", kwargs=kw),
        "epics": reverse("backlog:epics", kwargs=kw),
        "epic": reverse("backlog:epic", kwargs=kw | {"epic_id": epic.id}),
    }


# page key -> screenshot file (1440 px); every page in _demo_urls is checked at 390 px.
SHOTS = {"timeline": "roadmaps-timeline.png", "board": "roadmaps-board.png", "release": "roadmaps-release.png",
         "initiative": "roadmaps-initiative.png"}


def main() -> int:
    from playwright.sync_api import sync_playwright

    urls = _demo_urls()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                               "--insecure"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    problems = []
    try:
        for _ in range(100):
            try:
                urlopen(f"{base}/accounts/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for width, height in ((1440, 900), (390, 844)):
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(f"{base}/accounts/login/")
                page.get_by_label("Email").fill("demo@pmhub.local")
                page.get_by_label("Password").fill("pmhub-demo-2026")
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state("networkidle")
                for key, path in urls.items():
                    page.goto(base + path)
                    page.wait_for_load_state("networkidle")
                    if width == 1440 and key in SHOTS:
                        page.screenshot(path=str(OUT / SHOTS[key]), full_page=True)
                        print(f"wrote docs/screenshots/{SHOTS[key]}")
                    if width == 390:
                        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                        print(f"390 px {key}: horizontal overflow {overflow} px")
                        if overflow > 0:
                            problems.append(key)
                            page.screenshot(path=f"/tmp/overflow-{key}.png", full_page=True)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    if problems:
        print(f"pages wider than 390 px: {', '.join(problems)} (see /tmp/overflow-*.png)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
