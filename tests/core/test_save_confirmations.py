"""A confirmation for every save (generated from the URL resolver).

Every page view that answers POST and redirects after a save must queue a success message
(`messages.success` / `messages.info`), which base.html shows as a toast in the live region;
htmx saves get theirs through HtmxMessagesMiddleware (an HX-Trigger header). Views where a
confirmation makes no sense are in EXEMPT with the reason. The source of the view class (its own
methods and the mixins it defines in our code) is read, so a new POST view is checked as soon as it
is mounted.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest
from django.contrib import messages
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from pmhub.middleware import HtmxMessagesMiddleware

IGNORED_PREFIXES = ("admin/", "api/", "static/", "media/")
REDIRECT = re.compile(r"\b(redirect|HttpResponseRedirect|HttpResponseSeeOther)\(|success_url|HX-Redirect")
CONFIRM = re.compile(r"messages\.(success|info)\(|SuccessMessageMixin|success_message")

# view name -> why it has no confirmation.
EXEMPT: dict[str, str] = {
    "logout": "signing out lands on the sign-in page, which is the confirmation",
    "login": "signing in lands on the person's home page, which is the confirmation",
    "signup": "only a signed-in person is redirected (home, nothing saved); a sign-up answers with the "
              "'check your e-mail' page, which is the confirmation",
    "portal:unsubscribe": "answers with the 'you are unsubscribed' page itself, which is the confirmation",
    "portal:signin": "answers with the portal's 'check your e-mail' page, which is the confirmation (its mixin "
                     "redirects only a visitor who must sign in first)",
    "sso:start": "saves nothing: the e-mail only picks the identity provider, and the redirect goes to its "
                 "sign-in page, which is the confirmation",
}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), (f"{namespace}{p.name}" if p.name else None), p.callback


def _our_source(view) -> str:
    """The source of the view (class: every class in its MRO that lives in our code)."""
    cls = getattr(view, "view_class", None)
    if cls is None:
        return inspect.getsource(inspect.unwrap(view))
    parts = []
    for klass in cls.__mro__:
        module = klass.__module__ or ""
        if module.startswith(("django.", "rest_framework", "builtins")):
            continue
        try:
            parts.append(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
    return "\n".join(parts)


def _post_views():
    for route, name, callback in _walk(get_resolver().url_patterns):
        if route.startswith(IGNORED_PREFIXES) or not name:
            continue
        cls = getattr(callback, "view_class", None)
        if cls is not None and not hasattr(cls, "post"):
            continue
        if (callback.__module__ or "").startswith(("django.", "rest_framework", "drf_spectacular")):
            continue
        source = _our_source(callback)
        if cls is None and "POST" not in source:
            continue
        yield name, source


def test_every_view_that_saves_and_redirects_confirms_it():
    views = dict(_post_views())
    assert len(views) > 30, sorted(views)  # the walk found the POST views
    missing = [name for name, source in sorted(views.items())
               if name not in EXEMPT and REDIRECT.search(source) and not CONFIRM.search(source)]
    assert not missing, ("These views save and redirect without a confirmation: add messages.success(request, "
                         "'… saved.') or an EXEMPT entry with the reason:\n" + "\n".join(missing))


def test_exemptions_are_still_mounted():
    names = {name for _route, name, _cb in _walk(get_resolver().url_patterns)}
    assert set(EXEMPT) <= names, set(EXEMPT) - names


@pytest.mark.parametrize("htmx,expected", [(True, True), (False, False)])
def test_htmx_saves_send_their_messages_in_an_hx_trigger_header(rf: RequestFactory, htmx, expected):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    request = rf.post("/x/", headers={"HX-Request": "true"} if htmx else {})
    request.session = SessionStore()
    request._messages = FallbackStorage(request)

    def view(req):
        messages.success(req, "Story saved.")
        response = HttpResponse("<tr>…</tr>")
        response["HX-Trigger"] = json.dumps({"row-saved": 1})
        return response

    response = HtmxMessagesMiddleware(view)(request)
    if expected:
        triggers = json.loads(response["HX-Trigger"])
        assert triggers == {"row-saved": 1, "pmhub:messages": {"messages": [{"text": "Story saved.", "level": "success"}]}}
        assert request._messages.used  # MessageMiddleware drops them: said once, not again on the next page
    else:
        assert json.loads(response["HX-Trigger"]) == {"row-saved": 1}
