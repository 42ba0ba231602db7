"""The site header of every page (base.html `{% site_header %}`) and the product menu of every
product page (`{% product_nav %}`), written in Python.

The header is the same few dozen elements on every server-rendered page: the brand, the workspace
switcher, search, the notifications badge, the menu toggle, the workspace links and the user menu.
As template nodes it cost more than any other part of the page frame (about 90 nodes, loops and
`{% icon %}` calls a page); here its fixed parts are strings built once per process (URLs from
pmhub.navigation, icons from pmhub.icons) and a request only joins them with its escaped values.
The markup is the template's, byte for byte: tests/core/test_page_frame.py renders the template
this replaced beside it for visitors, viewers and admins (issue 23, target 3; decision 2000).
"""

from __future__ import annotations

from functools import lru_cache

from django.core.files.storage import storages
from django.template.defaulttags import CsrfTokenNode
from django.templatetags.static import static
from django.utils.safestring import SafeString, mark_safe

from .htmltext import val as _e
from .icons import render_icon
from .navigation import frame_urls

_CSRF = CsrfTokenNode()
_CURRENT, _PAGE = ' aria-current="true"', ' aria-current="page"'
_IS_CURRENT = ' class="is-current"'


# The files every page loads (base.html `{{ frame.static.<name> }}`).
FRAME_ASSETS = {
    "pico_css": "vendor/pico/pico.min.css",
    "css": "css/pmhub.css",
    "logo": "img/pmhub.svg",
    "htmx_js": "vendor/htmx/htmx.min.js",
    "js": "js/pmhub.js",
    "live_js": "js/live.js",
}


class _Assets(dict):
    def __missing__(self, key):
        url = self[key] = static(FRAME_ASSETS[key])
        return url


@lru_cache(maxsize=4)
def _assets_of(storage) -> _Assets:
    """The frame's static URLs, each resolved once per process and storage (was: seven `{% static %}`
    a page; a manifest storage looks each up in its table)."""
    return _Assets()


def frame_parts() -> dict:
    """`frame` of base.html (`{% frame_parts as frame %}`): the URLs of the page frame that are the
    same on every page, for any render of it (with or without a request)."""
    return {"urls": frame_urls(), "static": _assets_of(storages["staticfiles"])}


def site_header(context) -> SafeString:
    """`<header class="site-header">…</header>` for the page rendered with `context` (the template
    context: request, user, nav, frame, csrf_token from the context processors)."""
    frame = context.get("frame") or frame_parts()
    urls, static = frame["urls"], frame["static"]
    user = context.get("user")
    out = ['<header class="site-header">\n  <nav class="container-fluid site-nav" aria-label="Main">\n'
           '    <ul class="site-nav-start">\n'
           f'      <li><a href="{_e(urls["home"])}" class="brand"><img src="{_e(static["logo"])}" alt="" '
           'width="22" height="22"> <strong>PMHub</strong></a></li>\n      ']
    if user is None or not user.is_authenticated:
        out.append(f'\n    </ul>\n    \n    <ul><li><a href="{_e(urls["login"])}">Sign in</a></li></ul>\n'
                   '    \n  </nav>\n</header>')
        return mark_safe("".join(out))  # noqa: S308 - every value above is escaped
    nav = context["nav"]
    current = nav.current_workspace
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    view_name = getattr(match, "view_name", "") if match is not None else ""
    if current:
        switcher = "".join(f'<li><a href="{_e(w.url)}"{_CURRENT if w.current else ""}>'
                           f'{_e(w.label)}</a></li>' for w in nav.switcher)
        out.append(
            '\n      <li>\n        <details class="dropdown ws-switcher">\n'
            f'          <summary>{_e(current.name)}<span class="visually-hidden">: switch workspace</span>'
            '</summary>\n          <ul>\n'
            f'            {switcher}\n'
            f'            <li><a href="{_e(urls["workspace_create"])}">+ New workspace</a></li>\n'
            '          </ul>\n        </details>\n      </li>\n      ')
    unread = nav.unread_notifications
    badge = (f'<span class="badge" data-testid="unread-count">{_e(unread)}</span>' if unread
             else '<span class="badge badge-zero" data-testid="unread-count">0</span>')
    links = "".join(f'<li><a href="{_e(link.url)}"{_PAGE if link.current else ""}>'
                    f'{_e(link.label)}</a></li>' for link in nav.links)
    admin = "".join(f'<li><a href="{_e(link.url)}">{_e(link.label)}</a></li>' for link in nav.admin_links)
    out.append(
        '\n    </ul>\n    \n    <ul class="site-nav-tools">\n'
        f'      <li class="header-search"><form method="get" action="{_e(urls["search"])}" role="search">'
        f'<label for="header-search-q" class="search-label">{render_icon("search")}<span class="visually-hidden">'
        'Search (Ctrl+K)</span></label><input type="search" id="header-search-q" name="q" placeholder="Search" '
        'aria-keyshortcuts="Control+K Meta+K" autocomplete="off" data-search-open><kbd class="search-kbd" '
        'aria-hidden="true">Ctrl K</kbd></form></li>\n'
        f'      <li><a href="{_e(urls["notifications"])}" class="icon-link" aria-label="Notifications, '
        f'{_e(unread)} unread"{_PAGE if view_name == "notifications" else ""}>'
        f'{render_icon("bell")}{badge}</a></li>\n'
        '      <li><button type="button" class="nav-toggle" aria-expanded="false" aria-controls="site-menu" '
        f'data-nav-toggle>{render_icon("menu")}<span>Menu</span></button></li>\n'
        '    </ul>\n    <div class="site-menu" id="site-menu">\n      <ul class="nav-links">\n'
        f'        {links}\n'
        '        <li>\n          <details class="dropdown user-menu">\n'
        f'            <summary>{render_icon("user")}{_e(user.display_name)}</summary>\n'
        '            <ul dir="rtl">\n'
        f'              <li><a href="{_e(urls["api_tokens"])}"'
        f'{_PAGE if view_name == "api_tokens" else ""}>API tokens</a></li>\n'
        f'              <li><a href="{_e(urls["notification_preferences"])}">E-mail preferences</a></li>\n'
        f'              <li><a href="{_e(urls["api_docs"])}">API docs</a></li>\n'
        '              <li><label class="inline-check" dir="ltr"><input type="checkbox" data-shortcuts-toggle '
        'checked> Single-key shortcuts</label></li>\n'
        f'              {admin}\n'
        f'              <li><form method="post" action="{_e(urls["logout"])}" class="inline-form">'
        f'{_CSRF.render(context)}<button type="submit" class="link-button">Sign out</button></form></li>\n'
        '            </ul>\n          </details>\n        </li>\n      </ul>\n    </div>\n    \n'
        '  </nav>\n</header>')
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def product_menu(*, sections, product) -> SafeString:
    """A product's menu (pmhub.navigation.product_sections): its sections, then the pages of the
    current one. The current page is the only link with aria-current; its section is highlighted by
    class. The markup of the template it replaced (_product_nav_sections.html), byte for byte."""
    if not sections:
        return mark_safe("\n\n")
    name = _e(product.name)
    items = "".join(
        f'<li><a href="{_e(s.url)}"'
        f'{(_IS_CURRENT + (_PAGE if len(s.links) == 1 else "")) if s.current else ""}>'
        f'{render_icon(s.icon) if s.icon else ""}{_e(s.label)}</a></li>' for s in sections)
    out = (f'\n\n<nav class="product-nav" aria-label="{name}">\n'
           f'  <p class="product-nav-name"><a href="{_e(sections[0].links[0].url)}">{name}</a></p>\n'
           f'  <ul class="product-sections">\n    {items}\n  </ul>\n  ')
    current = next((s for s in sections if s.current), None)
    if current and len(current.links) > 1:
        pages = "".join(f'<li><a href="{_e(link.url)}"{_PAGE if link.current else ""}>{_e(link.label)}</a></li>'
                        for link in current.links)
        out += f'\n  <ul class="product-pages" aria-label="{_e(current.label)}">\n    {pages}\n  </ul>\n  '
    return mark_safe(out + "\n</nav>\n\n")  # noqa: S308 - every value above is escaped
