"""Seam for panels that a higher app adds to a lower app's page (the story page shows the GitHub
pull requests of the integrations app) without the lower app importing it: the app registers
`panel_register(place=, template=, context=)` in its `AppConfig.ready`, and the page's template
calls `{% panels "story" story %}` (pmhub template tags), which renders each registered panel."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template: str
    context: object  # callable(obj, request) -> dict, or None to leave the panel out


_PANELS: dict[str, list[Panel]] = {}


def panel_register(*, place: str, template: str, context) -> None:
    panels = _PANELS.setdefault(place, [])
    if not any(p.template == template for p in panels):
        panels.append(Panel(template=template, context=context))


def panels_of(place: str) -> list[Panel]:
    return list(_PANELS.get(place, []))
