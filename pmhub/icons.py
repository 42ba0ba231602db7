"""Icons from the package-managed Lucide set (npm `lucide-static`, ISC licence), inlined as SVG.

The files are found through the static-files finders (`vendor/lucide/<name>.svg`, mapped to
`node_modules/lucide-static/icons` in STATICFILES_DIRS) or, after collectstatic, in STATIC_ROOT:
never a CDN. Each icon is read once per process and kept; inline SVG (not <img>) so it takes the
text colour (`currentColor`). Decision: docs/decisions/1410-lucide-icons.md.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_INNER = re.compile(r"<svg\b[^>]*>(?P<inner>.*)</svg>", re.S)

# What each PMHub action or place is drawn with: templates say `{% icon "delete" %}`, not the
# Lucide file name, so a change of picture is one line here.
ALIASES = {
    "add": "plus",
    "edit": "pencil",
    "delete": "trash-2",
    "drag": "grip-vertical",
    "share": "share-2",
    "present": "presentation",
    "export": "download",
    "import": "upload",
    "search": "search",
    "menu": "menu",
    "bell": "bell",
    "user": "circle-user",
    "filter": "list-filter",
    "close": "x",
    "strategy": "target",
    "roadmap": "map",
    "backlog": "list-todo",
    "delivery": "rocket",
    "metrics": "chart-line",
    "reports": "file-text",
    "settings": "settings",
    "copy": "copy",
    "external": "external-link",
    "restore": "rotate-ccw",
}


class UnknownIcon(LookupError):
    pass


def _path(file_name: str) -> Path | None:
    found = finders.find(f"vendor/lucide/{file_name}.svg")
    if found:
        return Path(found)
    collected = Path(settings.STATIC_ROOT) / "vendor" / "lucide" / f"{file_name}.svg"
    return collected if collected.is_file() else None


@lru_cache(maxsize=256)
def icon_body(name: str) -> str:
    """The drawing (the SVG's children) of icon `name` (an alias above or a Lucide file name)."""
    file_name = ALIASES.get(name, name)
    if not _NAME.match(file_name):
        raise UnknownIcon(f"Not an icon name: {name!r}")
    path = _path(file_name)
    if path is None:
        raise UnknownIcon(f"No icon {name!r} (vendor/lucide/{file_name}.svg); run `npm ci`.")
    match = _INNER.search(path.read_text(encoding="utf-8"))
    if match is None:
        raise UnknownIcon(f"{path} is not an SVG drawing.")
    return re.sub(r"\s*\n\s*", "", match.group("inner")).strip()


@lru_cache(maxsize=1024)
def render_icon(name: str, *, label: str = "", size: int = 20, css: str = "") -> SafeString:
    """An inline SVG icon, hidden from screen readers; `label` adds words for them (buttons or
    links that show only the icon). Kept per process: the page frame alone draws ten a page."""
    svg = format_html(
        '<svg class="{}" width="{}" height="{}" viewBox="0 0 24 24" fill="none" stroke="currentColor"'
        ' stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"'
        ' focusable="false">{}</svg>',
        " ".join(filter(None, ["icon", f"icon-{name}", css])), size, size, mark_safe(icon_body(name)),  # noqa: S308 - a file of the installed package
    )
    if label:
        svg = mark_safe(f'{svg}<span class="visually-hidden">{escape(label)}</span>')  # noqa: S308
    return svg
