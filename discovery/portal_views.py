"""The public ideas portal at /portal/<slug>/: its own URL space, its own visitors (signed cookie
per portal, not a workspace session), nothing else of the workspace. See
docs/decisions/1604-portal-security.md."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Atom1Feed
from django.views import View
from django.views.decorators.csrf import csrf_protect

from . import services
from .api.public import PublicRateThrottle
from .models import Idea, Portal, ReleaseNote, Visitor, Vote

COOKIE_SALT = "discovery.portal.visitor"
COOKIE_AGE = 30 * 24 * 3600
PUBLIC_STATUSES = [Idea.Status.PLANNED, Idea.Status.IN_PROGRESS, Idea.Status.SHIPPED]


class _EmailThrottle(PublicRateThrottle):
    """Sign-in links per e-mail address (besides per client address): nobody floods one inbox."""

    scope = "discovery_portal_email"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": getattr(request, "_portal_email", "")}


def _throttled(request, *throttles) -> bool:
    return any(not t().allow_request(request, None) for t in throttles)


def _cookie_name(portal: Portal) -> str:
    return f"pmhub_portal_{portal.id}"


@method_decorator(csrf_protect, name="dispatch")
class PortalMixin(View):
    """Resolves the enabled portal of `slug` (else 404) and the signed-in visitor of THAT portal."""

    def dispatch(self, request, *args, slug, **kwargs):
        self.portal = get_object_or_404(Portal.objects.select_related("product").defer("logo"), slug=slug, enabled=True,
                                        product__deleted_at__isnull=True)
        self.visitor = None
        visitor_id = request.get_signed_cookie(_cookie_name(self.portal), default=None, salt=COOKIE_SALT,
                                               max_age=COOKIE_AGE)
        if visitor_id:
            self.visitor = Visitor.objects.filter(pk=visitor_id, portal=self.portal).first()
        return super().dispatch(request, *args, **kwargs)

    def context(self, **kwargs):
        return {"portal": self.portal, "visitor": self.visitor, **kwargs}

    def ideas(self):
        """What this visitor may see: published, unmerged ideas of the portal's product, and their own."""
        from django.db.models import Q

        visible = Q(published=True)
        if self.visitor is not None:
            visible |= Q(author=self.visitor)
        return Idea.objects.filter(visible, product=self.portal.product, merged_into__isnull=True)

    def need_visitor(self):
        if self.visitor is None:
            return redirect(reverse("portal:signin", kwargs={"slug": self.portal.slug}))
        return None


class PortalHomeView(PortalMixin):
    def get(self, request):
        sort = "new" if request.GET.get("sort") == "new" else "top"
        ideas = self.ideas().order_by(*(["-created_at", "-id"] if sort == "new" else ["-vote_count", "-id"]))[:100]
        mine = set(Vote.objects.filter(visitor=self.visitor, idea__in=ideas).values_list("idea_id", flat=True)) \
            if self.visitor else set()
        return render(request, "discovery/portal/home.html", self.context(ideas=ideas, mine=mine, sort=sort))

    def post(self, request):
        """Submit an idea (signed-in visitors)."""
        if (response := self.need_visitor()) is not None:
            return response
        if request.POST.get("website"):  # honeypot
            return redirect("portal:home", slug=self.portal.slug)
        if _throttled(request, PublicRateThrottle):
            return HttpResponse("Too many requests; try again in a minute.", status=429)
        try:
            idea = services.idea_submit(visitor=self.visitor, title=request.POST.get("title", ""),
                                        description=request.POST.get("description", ""))
        except ValidationError as e:
            ideas = self.ideas().order_by("-vote_count", "-id")[:100]
            return render(request, "discovery/portal/home.html", self.context(
                ideas=ideas, mine=set(), sort="top", errors=e.message_dict, typed=request.POST), status=400)
        messages.success(request, "Thank you! Your idea is in; the team reviews it before others see it.")
        return redirect("portal:idea", slug=self.portal.slug, idea_id=idea.id)


class PortalSignInView(PortalMixin):
    def get(self, request):
        return render(request, "discovery/portal/signin.html", self.context())

    def post(self, request):
        email = (request.POST.get("email") or "").strip().lower()[:190]
        request._portal_email = email
        if request.POST.get("website"):  # honeypot: answer alike, send nothing
            return render(request, "discovery/portal/signin_sent.html", self.context(email=email))
        if _throttled(request, PublicRateThrottle, _EmailThrottle):
            return render(request, "discovery/portal/signin.html", self.context(
                error="Too many sign-in requests; try again in a minute.", email=email), status=429)
        try:
            services.portal_signin_request(portal=self.portal, email=email, name=request.POST.get("name", ""))
        except ValidationError as e:
            return render(request, "discovery/portal/signin.html", self.context(
                error=" ".join(e.messages), email=email), status=400)
        return render(request, "discovery/portal/signin_sent.html", self.context(email=email))


class PortalLinkView(PortalMixin):
    """The e-mailed link shows a button (mail scanners that open links do not use it up); the POST
    uses the single-use link and sets this portal's signed cookie."""

    def get(self, request, token):
        return render(request, "discovery/portal/link.html", self.context(token=token))

    def post(self, request, token):
        visitor = services.portal_signin_consume(portal=self.portal, raw=token)
        if visitor is None:
            return render(request, "discovery/portal/link.html", self.context(
                token=token, error="This link was used already or has expired. Ask for a new one."), status=400)
        messages.success(request, "You are signed in.")
        response = redirect("portal:home", slug=self.portal.slug)
        response.set_signed_cookie(_cookie_name(self.portal), visitor.id, salt=COOKIE_SALT, max_age=COOKIE_AGE,
                                   httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
                                   path=f"/portal/{self.portal.slug}/")
        return response


class PortalSignOutView(PortalMixin):
    def post(self, request):
        messages.success(request, "You are signed out.")
        response = redirect("portal:home", slug=self.portal.slug)
        response.delete_cookie(_cookie_name(self.portal), path=f"/portal/{self.portal.slug}/")
        return response


PORTAL_CONFIRMATIONS = {
    "vote": "Your vote is counted.", "unvote": "Your vote is taken back.",
    "follow": "You follow this idea: we e-mail you when its status changes.",
    "unfollow": "You no longer follow this idea.", "comment": "Your comment is posted.",
}


class PortalIdeaView(PortalMixin):
    def _idea(self, idea_id):
        return get_object_or_404(self.ideas(), pk=idea_id)

    def get(self, request, idea_id, status=200, error=""):
        idea = self._idea(idea_id)
        vote = Vote.objects.filter(idea=idea, visitor=self.visitor).first() if self.visitor else None
        following = bool(self.visitor) and idea.follows.filter(visitor=self.visitor).exists()
        comments = idea.comments.select_related("visitor", "user")
        return render(request, "discovery/portal/idea.html", self.context(
            idea=idea, vote=vote, following=following, comments=comments, importance=Vote.Importance.choices,
            error=error), status=status)

    def post(self, request, idea_id):
        if (response := self.need_visitor()) is not None:
            return response
        idea = self._idea(idea_id)
        if request.POST.get("website"):
            return redirect("portal:idea", slug=self.portal.slug, idea_id=idea.id)
        if _throttled(request, PublicRateThrottle):
            return HttpResponse("Too many requests; try again in a minute.", status=429)
        action = request.POST.get("action")
        try:
            if action == "vote":
                try:
                    importance = int(request.POST.get("importance", 2))
                except ValueError:
                    importance = 0
                services.idea_vote(visitor=self.visitor, idea=idea, importance=importance)
            elif action == "unvote":
                services.idea_unvote(visitor=self.visitor, idea=idea)
            elif action in ("follow", "unfollow"):
                services.idea_follow(visitor=self.visitor, idea=idea, follow=action == "follow")
            elif action == "comment":
                services.idea_comment(visitor=self.visitor, idea=idea, body=request.POST.get("body", ""))
            else:
                raise ValidationError("Unknown action.")
        except ValidationError as e:
            return self.get(request, idea_id, status=400, error=" ".join(e.messages))
        messages.success(request, PORTAL_CONFIRMATIONS[action])
        return redirect("portal:idea", slug=self.portal.slug, idea_id=idea.id)


class PortalRoadmapView(PortalMixin):
    def get(self, request):
        ideas = self.ideas().filter(published=True, status__in=PUBLIC_STATUSES).order_by("-vote_count", "-id")
        columns = [(label, [i for i in ideas if i.status == value]) for value, label in Idea.Status.choices
                   if value in PUBLIC_STATUSES]
        return render(request, "discovery/portal/roadmap.html", self.context(columns=columns))


class PortalReleasesView(PortalMixin):
    def get(self, request):
        notes = ReleaseNote.objects.filter(portal=self.portal)[:50]
        shipped = self.ideas().filter(published=True, status=Idea.Status.SHIPPED).order_by("-shipped_at")[:50]
        return render(request, "discovery/portal/releases.html", self.context(notes=notes, shipped=shipped))


class PortalFeedView(PortalMixin):
    """Release notes as an Atom feed."""

    def get(self, request):
        link = settings.SITE_URL + reverse("portal:releases", kwargs={"slug": self.portal.slug})
        feed = Atom1Feed(title=f"{self.portal.name}: release notes", link=link,
                         description=f"What shipped in {self.portal.name}", language="en",
                         feed_url=settings.SITE_URL + request.path)
        for note in ReleaseNote.objects.filter(portal=self.portal)[:50]:
            feed.add_item(title=note.title, link=f"{link}#note-{note.id}", description=note.body,
                          pubdate=note.published_at, unique_id=f"{link}#note-{note.id}")
        return HttpResponse(feed.writeString("utf-8"), content_type="application/atom+xml; charset=utf-8")


class PortalUnsubscribeView(PortalMixin):
    def get(self, request, token):
        return render(request, "discovery/portal/unsubscribe.html", self.context(token=token))

    def post(self, request, token):
        visitor = services.visitor_unsubscribe(portal=self.portal, token=token)
        if visitor is None:
            raise Http404("No such subscription.")
        return render(request, "discovery/portal/unsubscribe.html", self.context(token=token, done=True))


class PortalSimilarView(PortalMixin):
    """htmx partial on the submit form: published ideas like the title being typed (rate limited)."""

    def get(self, request):
        from .similar import similar

        if _throttled(request, PublicRateThrottle):
            return HttpResponse("", status=429)
        rows = similar(self.ideas().filter(published=True), field="title", query=request.GET.get("title", ""))
        return render(request, "discovery/portal/_similar.html", self.context(rows=rows))


class PortalLogoView(PortalMixin):
    """The portal's logo, with the content type found in its content (services._logo_type), never
    sniffed, never run: nosniff, a sandboxing CSP, shown inline."""

    def get(self, request):
        from django.http import Http404, HttpResponse

        row = Portal.objects.filter(pk=self.portal.pk).values("logo", "logo_type").first()
        if not row or not row["logo"] or not row["logo_type"]:
            raise Http404("No logo.")
        response = HttpResponse(bytes(row["logo"]), content_type=row["logo_type"])
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Content-Disposition"] = 'inline; filename="logo"'
        response["Cache-Control"] = "public, max-age=300"
        return response
