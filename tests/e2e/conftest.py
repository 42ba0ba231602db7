"""Browser tests: Playwright (Python) driving Debian's Chromium against live_server."""

import os

import pytest

from tests.services import CHROMIUM, chromium_available, require

# Playwright keeps an event loop running in the main thread; Django's ORM must be allowed here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "screenshots")
# Only `make screenshots` (PMHUB_SCREENSHOTS=1) writes the tracked PNGs under docs/screenshots/;
# an ordinary test run writes them to a temporary folder so a clone stays clean after `make test`.
WRITE_DOCS_SCREENSHOTS = os.environ.get("PMHUB_SCREENSHOTS", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(autouse=True)
def _needs_chromium():
    require(chromium_available(), f"Chromium at {CHROMIUM}")


@pytest.fixture
def screenshot_path(tmp_path_factory):
    folder = SCREENSHOTS if WRITE_DOCS_SCREENSHOTS else str(tmp_path_factory.mktemp("screenshots"))

    def make(name: str) -> str:
        os.makedirs(folder, exist_ok=True)
        return os.path.abspath(os.path.join(folder, name))

    return make


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, user) through the real sign-in form."""

    def do(page, user, password=None):
        from tests.factories import PASSWORD

        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password or PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")

    return do
