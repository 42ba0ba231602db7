"""Panels of the workspace home page. Each app offers `<app>.home.panels(request, workspace)`
returning a list of {"title", "template", "context"} dicts; the page shows them in order."""

from importlib import import_module

PANEL_PROVIDERS = ("roadmaps.home", "metrics.home", "adoption.home", "backlog.home", "delivery.home", "reports.home",
                   "governance.home")


def home_panels(request, workspace) -> list[dict]:
    panels = []
    for path in PANEL_PROVIDERS:
        try:
            module = import_module(path)
        except ModuleNotFoundError:
            continue
        panels.extend(module.panels(request, workspace))
    return panels
