"""Largest Contentful Paint of the main pages in headless Chromium (Playwright), against a real
server on 127.0.0.1 started by the bench on the bench database. Optional: `--no-browser`, and
skipped (n/a) when /usr/bin/chromium or Playwright is missing."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.harness import Budget, Result, url_exists

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LCP_BUDGET = Budget(median=2.5)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Resolves with the latest LCP entry once the page has settled (buffered: entries before observe()).
LCP_JS = """() => new Promise((resolve) => {
  let lcp = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) { lcp = entry.renderTime || entry.loadTime || entry.startTime; }
  }).observe({type: 'largest-contentful-paint', buffered: true});
  setTimeout(() => resolve(lcp), 500);
})"""


def chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`manage.py runserver --noreload` on 127.0.0.1 against the bench database (DEBUG off)."""

    def __init__(self, database_url: str, log_path: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        env = dict(os.environ, DATABASE_URL=self.database_url, DEBUG="false", ALLOWED_HOSTS="127.0.0.1",
                   DJANGO_SETTINGS_MODULE="pmhub.settings",
                   # DEBUG off refuses the public default key (pmhub/checks.py): a throwaway one per run.
                   SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50))
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited; see {self.log_path}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2):  # noqa: S310 - loopback only
                    return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server did not answer on {self.url}; see {self.log_path}")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def _lcp_samples(context, url: str, runs: int) -> list[float]:
    """Seconds to the largest contentful paint: one warm-up load, then `runs` loads in fresh tabs."""
    samples = []
    for i in range(1 + runs):
        page = context.new_page()
        try:
            response = page.goto(url, wait_until="load")
            if response is None or response.status != 200:
                raise RuntimeError(f"GET {url} -> {response.status if response else 'no response'}")
            lcp_ms = page.evaluate(LCP_JS)
        finally:
            page.close()
        if i > 0:
            samples.append(lcp_ms / 1000)
    return samples


def measure_lcp(ctx, pages: list[tuple[str, str]]) -> list[Result]:
    """LCP (seconds) per page: one warm-up load, then ctx.scale.lcp_runs loads in fresh tabs."""
    names = [f"LCP {name}" for name, _ in pages]
    chromium = chromium_path()
    if chromium is None:
        return [Result.na(n, f"skipped: no Chromium at {CHROMIUM}", case="browser") for n in names]
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [Result.na(n, "skipped: Playwright not installed", case="browser") for n in names]
    present = [(name, path) for name, path in pages if url_exists(path)]
    results = [Result.na(f"LCP {name}", f"feature not present ({path.split('?')[0]} not routed)", case="browser")
               for name, path in pages if not url_exists(path)]
    if not present:
        return results
    from django.conf import settings

    session = ctx.web().cookies[settings.SESSION_COOKIE_NAME].value  # a real session row in the bench db
    log_path = Path(__file__).resolve().parent / "server.log"
    with Server(ctx.database_url, log_path) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server.url}])
        for name, path in present:
            try:
                samples = _lcp_samples(context, server.url + path, ctx.scale.lcp_runs)
            except Exception as exc:  # noqa: BLE001 - one page's failure is reported, the others go on
                results.append(Result.error(f"LCP {name}", exc, case="browser"))
                continue
            results.append(Result(name=f"LCP {name}", kind="read", samples=samples, budget=LCP_BUDGET, unit="s",
                                  case="browser", note=f"Chromium headless, {server.url}{path.split('?')[0]}"))
        browser.close()
    return results
