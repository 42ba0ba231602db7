"""Pages of the roadmaps app: products and strategy, objectives, the roadmap (timeline, board,
list), releases, snapshots and share links. Writes go through services."""

import functools
import json
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils import timezone
from django.views import View

from backlog import selectors as backlog_selectors
from backlog import services as backlog_services
from delivery import selectors as delivery_selectors
from governance import selectors as governance_selectors
from pmhub.clock import today_in
from pmhub.errors import Conflict
from pmhub.jsonsafe import JsonRefused, loads_bounded
from pmhub.models import Role, User
from pmhub.utils import all_or_nothing, safe_next, version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from

from . import forms, graph, rows, selectors, services
from . import timeline as tl
from .diff import snapshot_diff
from .models import (
    BusinessCase,
    Capability,
    Competitor,
    Dependency,
    Initiative,
    KeyResult,
    Objective,
    Product,
    Release,
    RoadmapSnapshot,
    Segment,
    ShareLink,
)
from .pages import ProductPageMixin


def _members(workspace):
    return list(User.objects.filter(memberships__workspace=workspace).order_by("email"))


# Work progress reads stories: this presentation layer composes the backlog's selector (and
# delivery's for a release's scope), the one definition in backlog/progress.py.
_initiative_progress = backlog_selectors.attach_initiative_progress


class ProductFormView(ProductPageMixin, View):
    """A product page whose form posts back to it: a valid form goes to `save(data)`, then a
    success message and a redirect to this product's `success_url` (a URL name); an invalid form,
    or a service's ValidationError, shows the page again with the errors (400).

    Subclasses declare their roles, `form_class`, `save()` and `_render(request, form=None,
    status=200)`; `saved()` and `form_invalid()` answer otherwise where a page needs it."""

    form_class = None
    success_message = ""
    success_url = ""

    def get(self, request, ws, product_id):
        return self._render(request)

    def get_form(self, data=None):
        return self.form_class(data)

    def post(self, request, ws, product_id):
        form = self.get_form(request.POST)
        if form.is_valid():
            try:
                result = self.save(form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                return self.saved(request, result)
        return self.form_invalid(request, form)

    def saved(self, request, result):
        messages.success(request, self.success_message)
        return redirect(self.success_url, ws=self.workspace.slug, product_id=self.product.id)

    def form_invalid(self, request, form):
        return self._render(request, form=form, status=400)

    def save(self, data):
        raise NotImplementedError


# --- products ----------------------------------------------------------------------------------
class ProductListView(WorkspacePageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form, status=200):
        products = selectors.products_with_initiative_counts(workspace=self.workspace)
        backlog_selectors.attach_product_progress(products)
        deleted = selectors.deleted_products(workspace=self.workspace) if self.role >= Role.ADMIN else []
        return render(request, "roadmaps/product_list.html", self.get_context_data(
            products=products, deleted=deleted, form=form), status=status)

    def get(self, request, ws):
        return self._render(request, forms.ProductForm())

    def post(self, request, ws):
        form = forms.ProductForm(request.POST)
        if form.is_valid():
            try:
                product = services.product_create(actor=request.user, workspace=self.workspace, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Product “{product.name}” created.")
                return redirect("roadmaps:product", ws=ws, product_id=product.id)
        return self._render(request, form, status=400)


class ProductOverviewView(ProductPageMixin, View):
    """Vision, segments, business case, competitors and the capability grid; editors add rows here."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR
    FORMS = {"segment": (forms.SegmentForm, Segment), "competitor": (forms.CompetitorForm, Competitor),
             "capability": (forms.CapabilityForm, Capability)}

    def _render(self, request, status=200, **bound):
        product = self.product
        try:
            case = product.business_case
        except BusinessCase.DoesNotExist:
            case = None
        competitors = list(product.competitors.prefetch_related("ratings"))
        capabilities = list(product.capabilities.all())
        grid = []
        for cap in capabilities:
            levels = {r.competitor_id: r.level for c in competitors for r in c.ratings.all()
                      if r.capability_id == cap.id}
            grid.append({"capability": cap, "cells": [(c, levels.get(c.id, "no")) for c in competitors]})
        context = self.get_context_data(
            case=case, segments=product.segments.all(), competitors=competitors, capabilities=capabilities,
            grid=grid, level_choices=forms.Level.choices,
            segment_form=bound.get("segment") or forms.SegmentForm(),
            competitor_form=bound.get("competitor") or forms.CompetitorForm(),
            capability_form=bound.get("capability") or forms.CapabilityForm(),
            rating_error=bound.get("rating_error"),
        )
        return render(request, "roadmaps/product_overview.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        kind = request.POST.get("kind")
        if kind == "rating":
            return self._rate(request)
        if kind not in self.FORMS:
            raise Http404("Unknown form.")
        form_class, model = self.FORMS[kind]
        form = form_class(request.POST)
        if form.is_valid():
            try:
                services.child_create(actor=request.user, model=model, product=self.product, data=form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"{model._meta.verbose_name.capitalize()} added.")
                return redirect("roadmaps:product", ws=ws, product_id=self.product.id)
        return self._render(request, status=400, **{kind: form})

    def _rate(self, request):
        form = forms.RatingForm(request.POST)
        if not form.is_valid():
            return self._render(request, status=400, rating_error="Choose yes, partial or no.")
        competitor = get_object_or_404(Competitor, id=form.cleaned_data["competitor"], product=self.product)
        capability = get_object_or_404(Capability, id=form.cleaned_data["capability"], product=self.product)
        services.capability_rate(actor=request.user, competitor=competitor, capability=capability,
                                 level=form.cleaned_data["level"])
        return redirect(reverse("roadmaps:product", kwargs={"ws": self.workspace.slug,
                                                            "product_id": self.product.id}) + "#grid")


class ChildDeleteView(ProductPageMixin, View):
    """POST .../<kind>/<id>/delete/ for segments, competitors and capabilities."""

    write_role = Role.EDITOR
    MODELS = {"segments": Segment, "competitors": Competitor, "capabilities": Capability}

    def post(self, request, ws, product_id, kind, obj_id):
        model = self.MODELS.get(kind) or _raise404()
        obj = get_object_or_404(model, id=obj_id, product=self.product)
        services.child_delete(actor=request.user, obj=obj)
        messages.success(request, f"{model._meta.verbose_name.capitalize()} removed.")
        return redirect("roadmaps:product", ws=ws, product_id=self.product.id)


def _raise404():
    raise Http404("Not found.")


class ProductEditView(ProductPageMixin, View):
    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _forms(self, data=None):
        product = self.product
        case = BusinessCase.objects.filter(product=product).first() or BusinessCase()
        return (forms.ProductForm(data, initial={"name": product.name, "vision": product.vision}),
                forms.BusinessCaseForm(data, initial={f: getattr(case, f) for f in forms.BusinessCaseForm.base_fields}))

    def get(self, request, ws, product_id):
        form, case_form = self._forms()
        return render(request, "roadmaps/product_edit.html", self.get_context_data(form=form, case_form=case_form))

    def post(self, request, ws, product_id):
        form, case_form = self._forms(request.POST)
        if form.is_valid() and case_form.is_valid():
            try:
                # One transaction: the product's version guards its business case too.
                with transaction.atomic():
                    services.product_update(
                        actor=request.user, product=self.product, data=form.cleaned_data,
                        version=version_read(request.POST.get("version")))
                    services.business_case_update(actor=request.user, product=self.product,
                                                  data=case_form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "product")
                return render(request, "roadmaps/product_edit.html",
                              self.get_context_data(form=form, case_form=case_form), status=409)
            else:
                messages.success(request, "Product saved.")
                return redirect("roadmaps:product", ws=ws, product_id=self.product.id)
        return render(request, "roadmaps/product_edit.html",
                      self.get_context_data(form=form, case_form=case_form), status=400)


class ProductDeleteView(ProductPageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def get(self, request, ws, product_id):
        return render(request, "roadmaps/product_delete.html", self.get_context_data())

    def post(self, request, ws, product_id):
        services.product_delete(actor=request.user, product=self.product)
        messages.success(request, f"Product “{self.product.name}” deleted. An admin can restore it from the "
                                  "products page.")
        return redirect("roadmaps:products", ws=ws)


class ProductRestoreView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _product(self, product_id):
        return get_object_or_404(Product, id=product_id, workspace=self.workspace, deleted_at__isnull=False)

    def get(self, request, ws, product_id):
        return render(request, "roadmaps/product_restore.html",
                      self.get_context_data(product=self._product(product_id)))

    def post(self, request, ws, product_id):
        product = services.product_restore(actor=request.user, product=self._product(product_id))
        messages.success(request, f"Product “{product.name}” restored.")
        return redirect("roadmaps:product", ws=ws, product_id=product.id)


# --- roadmap views -------------------------------------------------------------------------------
def _attach_risk_flags(initiatives, *, product_id: int | None = None) -> None:
    """`risk_flags` on each initiative: the open risks above appetite that touch it, and
    `statement_status`: its business impact statement's ("awaiting" shows "awaiting approval").
    Two queries; a page composes the governance app's reads, docs/decisions/1502. With the
    `product_id` they all belong to: the product's, each query compiled once (decision 2130)."""
    if product_id is not None:
        flags = governance_selectors.flags_for_product_initiatives(product_id=product_id)
        statements = governance_selectors.statement_statuses_for_product(product_id=product_id)
    else:
        ids = [i.id for i in initiatives]
        flags = governance_selectors.flags_for_initiatives(initiative_ids=ids)
        statements = governance_selectors.statement_statuses_for_initiatives(initiative_ids=ids)
    for i in initiatives:
        i.risk_flags = flags.get(i.id, [])
        i.statement_status = statements.get(i.id, "")


GROUPS = {"objective": "Objective", "owner": "Owner", "status": "Status"}
# Bars the timeline draws at first, the first by start date; "Show all" (?all=1) draws every one
# (docs/decisions/1926-roadmap-board-columns-paged.md).
TIMELINE_BARS = 100


def build_timeline(*, product, params, today: date | None = None, group: str = "objective",
                   scale: str = "month", only_visible: bool = False, editable: bool = False,
                   next_path: str = "", limit: int | None = None, flags: bool = False) -> dict:
    """Everything the timeline template draws: range, columns, lanes of bars, markers, lines.
    `only_visible` (share links): dependencies and their conflicts only between the initiatives
    shown, and only the filtered release's marker, so a filtered link reveals nothing else.
    `editable`: bars carry their move and edit URLs (`next_path`, URL-encoded, is where the edit
    form returns); each bar's strings are ready in `row` (roadmaps/rows.py).
    `limit`: bars drawn at most, the first by start date (`hidden`: how many more have dates; the
    page links to all of them); range, counts and conflicts stay those of every initiative.
    `flags`: the risk flags and statement status of the bars and unscheduled initiatives (the
    product's page; a share link shows neither)."""
    today = today or today_in(product.workspace.time_zone)
    data = selectors.roadmap_for_product(product=product, params=params, links_only=True, owners=group == "owner")
    initiatives, dependencies, releases = data["initiatives"], data["dependencies"], data["releases"]
    if only_visible:
        shown = {i.id for i in initiatives}
        dependencies = [d for d in dependencies if d.blocker_id in shown and d.blocked_id in shown]
        if params.get("release"):
            releases = [r for r in releases if str(r.id) == str(params["release"])]
    dates = [d for i in initiatives for d in (i.start_date, i.end_date)] + [r.release_date for r in releases]
    start, end = tl.timeline_range(dates, today)
    conflicted, blocked_by = set(), {}
    for d in dependencies:
        if d.conflict:
            conflicted.update({d.blocker_id, d.blocked_id})
        blocked_by.setdefault(d.blocked_id, []).append(d)
    states = selectors.initiative_schedule(initiatives=initiatives, dependencies=dependencies, today=today)
    lanes, unscheduled, drawn, hidden = {}, [], [], 0
    for i in initiatives:
        i.schedule = states[i.id]
        i.conflict = i.id in conflicted
        i.blockers = blocked_by.get(i.id, [])
        if i.start_date is None and i.end_date is None:  # tl.bar's "no bar"
            i.bar = None
            unscheduled.append(i)
            continue
        if limit is not None and len(drawn) >= limit:  # not drawn: its bar is not computed
            hidden += 1
            continue
        i.bar = tl.bar(i.start_date, i.end_date, start, end)
        drawn.append(i)
        if group == "owner":
            key = (str(i.owner) if i.owner else "No owner",)
        elif group == "status":
            key = (i.get_status_display(),)
        else:
            key = (i.objective_title or "No objective",)
        lanes.setdefault(key[0], []).append(i)
    # The initiatives shown, in one query compiled once (per power of two of them: decision 2351).
    backlog_selectors.attach_progress(drawn + unscheduled, backlog_selectors.progress_for_product_initiatives(
        product=product, initiative_ids=[i.id for i in drawn + unscheduled]))
    visible = {i.id for i in drawn}
    lanes = [{"title": k, "items": v} for k, v in sorted(lanes.items(), key=lambda kv: kv[0].startswith("No "))]
    if flags:
        _attach_risk_flags(drawn + unscheduled, product_id=product.pk)
    rows.timeline_lanes(lanes, workspace=product.workspace, product=product, next_path=next_path, editable=editable)
    columns = tl.columns(start, end, scale)
    markers = [{"release": r, "left": left} for r in releases
               if (left := tl.marker(r.release_date, start, end)) is not None]
    return {
        "range_start": start, "range_end": end, "total_days": (end - start).days,
        "columns": columns, "columns_html": rows.timeline_columns_html(columns), "scale": scale, "group": group,
        "lanes": lanes, "editable": editable,
        "unscheduled": unscheduled,
        "today": tl.marker(today, start, end),
        "release_markers": markers, "release_markers_html": rows.release_markers_html(markers),
        "lines": [{"from": d.blocker_id, "to": d.blocked_id, "conflict": d.conflict} for d in dependencies
                  if d.blocker_id in visible and d.blocked_id in visible],
        "initiative_count": len(initiatives), "drawn": len(drawn), "hidden": hidden,
        "conflict_count": sum(1 for d in dependencies if d.conflict),
        "schedule_counts": graph.schedule_counts(states.values()),
    }


class _RoadmapView(ProductPageMixin, View):
    required_role = Role.VIEWER
    template = ""
    # The workflow decides which stories are done in the work progress of the initiatives shown:
    # read with the product, it costs no query of its own.
    product_related = ("backlog_settings",)

    def filters(self, request):
        product = self.product
        current = {k: request.GET.get(k, "") for k in ("objective", "status", "owner", "label")}
        return {
            # Printed with {% select_options %}: a workspace has hundreds of members, and a loop of
            # template nodes per member cost as much as a column of cards.
            "objectives": selectors.objective_choices(product_id=product.pk),
            # (id, display name) from rows: 200 members were 200 models for one <select>.
            "owners": backlog_selectors.member_choices(self.workspace.pk),
            "statuses": Initiative.Status.choices,
            "current": current,
        }


class TimelineView(_RoadmapView):
    def get(self, request, ws, product_id):
        group = request.GET.get("group") if request.GET.get("group") in GROUPS else "objective"
        scale = "quarter" if request.GET.get("scale") == "quarter" else "month"
        context = build_timeline(product=self.product, params=request.GET, group=group, scale=scale,
                                 editable=self.role >= Role.EDITOR, next_path=urlencode(request.get_full_path()),
                                 limit=None if request.GET.get("all") else TIMELINE_BARS, flags=True)
        return render(request, "roadmaps/timeline.html", self.get_context_data(
            view="timeline", groups=GROUPS, timeline=context, filters=self.filters(request),
            lines_json=context["lines"]))


# Cards a column of the board shows at first; "Show N more" fetches the rest of that column
# (BoardView with ?column=<horizon>&from=<rank>:<id> of the first card not shown). Dropping after
# the last card shown ranks the card before the first one not shown (the list's data-next-rank),
# so drag ranking is the same as with every card on the page
# (docs/decisions/1926-roadmap-board-columns-paged.md).
BOARD_COLUMN_CARDS = 20


class BoardView(_RoadmapView):
    def get(self, request, ws, product_id):
        # Every initiative of the product as a card row (one query compiled once, decision 2211): the
        # columns, their counts and the cursors come from their places (id, horizon, rank), the cards
        # shown (80 of 300) from the same rows. A filtered board reads its places with the filters.
        # Rows, not cards: only the cards shown are made (decision 2312).
        card_rows = selectors.board_card_rows(product=self.product)
        self.card_rows = {row[selectors.CARD_ID]: row for row in card_rows}
        if any(request.GET.get(key) for key in selectors.FILTER_KEYS):
            places = selectors.initiative_places(product=self.product, params=request.GET)
        else:
            places = list(map(selectors.card_place, card_rows))
        columns = {h: [] for h in ("now", "next", "later", "")}
        for pk, horizon, rank in places:
            columns[horizon].append((rank, pk))
        if "column" in request.GET:
            return self._rest_of_column(request, columns)
        shown = [pk for places in columns.values() for _, pk in places[:BOARD_COLUMN_CARDS]]
        cards = {c["id"]: c for c in self._cards(shown)}
        html = functools.partial(rows.board_cards_html, can_edit=self.role >= Role.EDITOR,
                                 csrf_token=get_token(request), next_path=request.get_full_path())
        titles = dict(Initiative.Horizon.choices) | {"": "Not placed"}
        query = request.GET.copy()
        board = []
        for key, places in columns.items():
            rest = places[BOARD_COLUMN_CARDS:]
            query["column"] = key or "none"
            if rest:  # where the rest starts: a cursor, so cards dropped into the column meanwhile don't repeat
                query["from"] = f"{rest[0][0]!r}:{rest[0][1]}"
            board.append({"key": key, "title": titles[key], "count": len(places),
                          "html": html([cards[pk] for _, pk in places[:BOARD_COLUMN_CARDS]]), "more": len(rest),
                          "next_rank": f"{rest[0][0]:f}" if rest else "",
                          "more_url": f"{request.path}?{query.urlencode()}" if rest else ""})
        return render(request, "roadmaps/board.html", self.get_context_data(
            view="board", filters=self.filters(request), next_path=request.get_full_path(), columns=board))

    def _cards(self, ids: list[int]) -> list[dict]:
        """The cards (rows.board_cards) of these initiatives, in the order of `ids`, with their work
        progress, risk flags and statement status: three queries beside the card rows, whatever their
        number."""
        shown = [selectors.CardInitiative(self.card_rows[pk]) for pk in ids if pk in self.card_rows]
        # The cards' initiatives, the query compiled once (decision 2130; per power of two of them: 2351).
        work = backlog_selectors.progress_for_product_initiatives(product=self.product,
                                                                  initiative_ids=[i.id for i in shown])
        backlog_selectors.attach_progress(shown, work)
        _attach_risk_flags(shown, product_id=self.product.pk)
        return rows.board_cards(shown, workspace=self.workspace, product=self.product)

    def _rest_of_column(self, request, columns):
        """The cards of one column from the `from` cursor ("rank:id" of the first card not shown)
        on, in board order (an HTML fragment of <li>s)."""
        key = request.GET.get("column")
        key = "" if key == "none" else key
        if key not in columns:
            raise Http404("No such column.")
        try:
            rank, pk = request.GET.get("from", "").split(":")
            cursor = (float(rank), int(pk))
        except ValueError:
            cursor = (float("-inf"), 0)
        rest = [pk for rank, pk in columns[key] if (rank, pk) >= cursor]
        query = request.GET.copy()
        query.pop("column", None)
        query.pop("from", None)
        board_path = f"{request.path}?{query.urlencode()}" if query else request.path
        html = rows.board_cards_html(self._cards(rest), can_edit=self.role >= Role.EDITOR,
                                     csrf_token=get_token(request), next_path=board_path)
        return render(request, "roadmaps/_board_cards.html", {"cards": html})


class ListView(_RoadmapView):
    def get(self, request, ws, product_id):
        qs = selectors.initiatives_filtered(selectors.initiatives_annotated(self.product.initiatives.all()),
                                            request.GET).order_by("start_date", "id")
        if request.GET.get("objective"):
            qs = qs.distinct()
        items = list(qs.after_fetch(_initiative_progress))
        _attach_risk_flags(items)
        deps = selectors.dependencies_annotated(Dependency.objects.filter(blocker__product=self.product))
        return render(request, "roadmaps/list.html", self.get_context_data(
            view="list", filters=self.filters(request), items=items, dependencies=deps,
            dependency_error=None))


# --- initiatives ----------------------------------------------------------------------------------
class InitiativeFormView(ProductPageMixin, View):
    """Create (no initiative_id) or edit an initiative; the edit form carries the version read."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _initiative(self, initiative_id):
        if initiative_id is None:
            return None
        return get_object_or_404(Initiative, id=initiative_id, product=self.product)

    def _form(self, initiative, data=None):
        initial = {}
        if initiative is not None:
            initial = {f: getattr(initiative, f) for f in ("title", "description", "status", "horizon",
                                                           "start_date", "end_date", "confidence", "version")}
            initial.update(owner=initiative.owner_id, release=initiative.release_id,
                           labels=", ".join(initiative.label_list),
                           objectives=[o.id for o in initiative.objectives.all()])
        return forms.InitiativeForm(data, initial=initial, product=self.product, members=_members(self.workspace))

    def _render(self, request, form, initiative, status=200, conflict=None):
        return render(request, "roadmaps/initiative_form.html", self.get_context_data(
            form=form, initiative=initiative, conflict=conflict,
            next=safe_next(request, "")), status=status)

    def get(self, request, ws, product_id, initiative_id=None):
        initiative = self._initiative(initiative_id)
        return self._render(request, self._form(initiative), initiative)

    def post(self, request, ws, product_id, initiative_id=None):
        initiative = self._initiative(initiative_id)
        form = self._form(initiative, request.POST)
        if form.is_valid():
            try:
                if initiative is None:
                    initiative = services.initiative_create(actor=request.user, product=self.product,
                                                            data=form.service_data())
                else:
                    services.initiative_update(actor=request.user, initiative=initiative, data=form.service_data(),
                                               version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict as e:
                form.add_error(None, "Someone else changed this initiative since you opened it. "
                                     "Reload to see their changes, then edit again.")
                return self._render(request, form, initiative, status=409, conflict=e.current)
            else:
                messages.success(request, f"Initiative “{initiative.title}” saved.")
                return redirect(safe_next(request, reverse("roadmaps:list", kwargs={
                    "ws": ws, "product_id": self.product.id})))
        return self._render(request, form, initiative, status=400)


class InitiativeWorkView(ProductPageMixin, View):
    """The work of one initiative: its progress, its epics (each with progress and release) and
    their stories. Editors take epics (or stories, into one of its epics) or let them go here."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _initiative(self, initiative_id):
        return get_object_or_404(selectors.initiatives_annotated(self.product.initiatives.all()), id=initiative_id)

    def get(self, request, ws, product_id, initiative_id, status=200, error=None):
        initiative = self._initiative(initiative_id)
        _initiative_progress([initiative])
        _attach_risk_flags([initiative])
        initiative.portfolio = governance_selectors.portfolio_entry_of(initiative=initiative)
        epics = backlog_selectors.epics_of_initiative(initiative=initiative)
        stories = backlog_selectors.stories_of_initiative(initiative=initiative)
        context = {"initiative": initiative, "epics": epics, "stories": stories, "error": error}
        if self.role >= Role.EDITOR:
            context["other_epics"] = backlog_selectors.epics_for_choice(product=self.product).exclude(
                initiative=initiative)
            context["other_stories"] = backlog_selectors.stories_outside_initiative(initiative=initiative)
        return render(request, "roadmaps/initiative_work.html", self.get_context_data(**context), status=status)

    def post(self, request, ws, product_id, initiative_id):
        initiative = self._initiative(initiative_id)
        epics = [x for x in request.POST.getlist("epics") if x.strip()]
        stories = [x for x in request.POST.getlist("stories") if x.strip()]
        taking = request.POST.get("action") == "take"
        try:
            if not epics and not stories:
                raise ValidationError("Choose epics or stories.")
            link = {"initiative": initiative} if taking else {"unlink_from": initiative}
            all_or_nothing(*[call for call in (
                epics and (lambda: backlog_services.epics_link(actor=request.user, product=self.product,
                                                               epic_ids=epics, **link)),
                stories and taking and (lambda: backlog_services.initiative_take_stories(
                    actor=request.user, initiative=initiative, story_ids=stories, epic_id=request.POST.get("epic"))),
                stories and not taking and (lambda: backlog_services.initiative_release_stories(
                    actor=request.user, initiative=initiative, story_ids=stories)),
            ) if call])
        except ValidationError as e:
            return self.get(request, ws, product_id, initiative_id, status=400, error=" ".join(e.messages))
        messages.success(request, "Work taken into the initiative." if taking else "Work let go.")
        return redirect("roadmaps:initiative_work", ws=ws, product_id=self.product.id, initiative_id=initiative.id)


class InitiativeDeleteView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, initiative_id):
        initiative = get_object_or_404(Initiative, id=initiative_id, product=self.product)
        services.initiative_delete(actor=request.user, initiative=initiative)
        messages.success(request, f"Initiative “{initiative.title}” deleted.")
        return redirect("roadmaps:list", ws=ws, product_id=self.product.id)


def _error_words(errors: dict) -> list[str]:
    """The messages of form errors (get_json_data's dicts) or a ValidationError's message_dict."""
    words = []
    for messages_ in errors.values():
        for m in messages_ if isinstance(messages_, list) else [messages_]:
            words.append(str(m.get("message", "")) if isinstance(m, dict) else str(m))
    return words


class InitiativeMoveView(ProductPageMixin, View):
    """Board and timeline moves. JSON in, JSON out for drag and drop (fetch); a plain form post
    (the keyboard way) redirects back."""

    write_role = Role.EDITOR

    def post(self, request, ws, product_id, initiative_id):
        initiative = get_object_or_404(Initiative, id=initiative_id, product=self.product)
        is_json = request.content_type == "application/json"
        if is_json:
            try:
                payload = loads_bounded(request.body or b"{}")
            except JsonRefused as exc:
                return JsonResponse({"detail": str(exc), "errors": {}}, status=400)
        else:
            payload = request.POST
        form = forms.MoveForm(payload if isinstance(payload, dict) or not is_json else {})
        if not form.is_valid():
            return self._answer(request, is_json, 400, errors=form.errors.get_json_data())
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") or
                (k == "horizon" and "horizon" in payload)}
        try:
            services.initiative_move(actor=request.user, initiative=initiative, **data)
        except ValidationError as e:
            errors = e.message_dict if hasattr(e, "error_dict") else {"non_field_errors": e.messages}
            return self._answer(request, is_json, 400, errors=errors)
        except Conflict as e:
            return self._answer(request, is_json, 409, current=e.current)
        return self._answer(request, is_json, 200, initiative=services.initiative_state(initiative))

    def _answer(self, request, is_json, status, **body):
        if is_json:
            if status == 400:  # a sentence for PMHub.fetch to announce, next to the field errors
                body["detail"] = "Could not move: " + "; ".join(_error_words(body.get("errors") or {}))
            return JsonResponse(body, status=status)
        if status == 409:
            messages.error(request, "Someone else moved this initiative meanwhile; the page shows the latest state.")
        elif status == 400:
            messages.error(request, "Could not move: " + json.dumps(body.get("errors")))
        else:
            messages.success(request, "Initiative moved.")
        return redirect(safe_next(request, reverse("roadmaps:board", kwargs={"ws": self.workspace.slug,
                                                                             "product_id": self.product.id})))


class DependencyCreateView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id):
        form = forms.DependencyForm(request.POST)
        back = reverse("roadmaps:list", kwargs={"ws": ws, "product_id": self.product.id})
        if not form.is_valid():
            messages.error(request, "Choose both initiatives.")
            return redirect(back)
        blocker = get_object_or_404(Initiative, id=form.cleaned_data["blocker"], product=self.product)
        blocked = get_object_or_404(Initiative, id=form.cleaned_data["blocked"], product=self.product)
        try:
            services.dependency_create(actor=request.user, blocker=blocker, blocked=blocked)
        except ValidationError as e:
            messages.error(request, " ".join(m for ms in e.message_dict.values() for m in ms))
            return redirect(back)
        messages.success(request, f"“{blocker}” now blocks “{blocked}”.")
        return redirect(back)


class DependencyDeleteView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, dependency_id):
        dependency = get_object_or_404(Dependency, id=dependency_id, blocker__product=self.product)
        services.dependency_delete(actor=request.user, dependency=dependency)
        messages.success(request, "Dependency removed.")
        return redirect("roadmaps:list", ws=ws, product_id=self.product.id)


# --- objectives -----------------------------------------------------------------------------------
class ObjectivesView(ProductFormView):
    required_role = Role.VIEWER
    write_role = Role.EDITOR
    form_class = forms.ObjectiveForm
    success_message = "Objective added."
    success_url = "roadmaps:objectives"

    def _render(self, request, form=None, kr_forms=None, status=200):
        objectives = selectors.objectives_with_progress(self.product.objectives.all())
        backlog_selectors.attach_objective_work(objectives)
        for o in objectives:
            o.kr_form = (kr_forms or {}).get(o.id) or forms.KeyResultForm()
        return render(request, "roadmaps/objectives.html", self.get_context_data(
            objectives=objectives, form=form or forms.ObjectiveForm()), status=status)

    def save(self, data):
        services.objective_create(actor=self.request.user, product=self.product, data=data)


class KeyResultCreateView(ObjectivesView):
    required_role = None
    http_method_names = ["post", "options"]  # only the objectives page's GET is inherited, not offered
    form_class = forms.KeyResultForm
    success_message = "Key result added."

    def post(self, request, ws, product_id, objective_id):
        self.objective = get_object_or_404(Objective, id=objective_id, product=self.product)
        return super().post(request, ws, product_id)

    def save(self, data):
        services.key_result_create(actor=self.request.user, objective=self.objective, data=data)

    def form_invalid(self, request, form):
        return self._render(request, kr_forms={self.objective.id: form}, status=400)


class KeyResultUpdateView(ProductPageMixin, View):
    """Update a key result's current value (inline form on the objectives page)."""

    write_role = Role.EDITOR

    def post(self, request, ws, product_id, key_result_id):
        kr = get_object_or_404(KeyResult, id=key_result_id, objective__product=self.product)
        form = forms.KeyResultForm(request.POST)
        form.fields = {"current_value": form.fields["current_value"]}
        if form.is_valid():
            try:
                services.child_update(actor=request.user, obj=kr, data=form.cleaned_data,
                                      version=version_read(request.POST.get("version")))
            except Conflict:
                messages.error(request, "Someone else changed this key result since you opened the page; "
                                        "here is the current value. Make your change again.")
            else:
                messages.success(request, "Key result updated.")
        else:
            messages.error(request, "Enter a number.")
        return redirect("roadmaps:objectives", ws=ws, product_id=self.product.id)


class ObjectiveDeleteView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, objective_id):
        objective = get_object_or_404(Objective, id=objective_id, product=self.product)
        services.child_delete(actor=request.user, obj=objective)
        messages.success(request, "Objective deleted.")
        return redirect("roadmaps:objectives", ws=ws, product_id=self.product.id)


# --- releases -------------------------------------------------------------------------------------
class ReleasesView(ProductFormView):
    required_role = Role.VIEWER
    write_role = Role.EDITOR
    form_class = forms.ReleaseForm
    success_message = "Release added."
    success_url = "roadmaps:releases"

    def _render(self, request, form=None, status=200):
        releases = list(selectors.releases_annotated(self.product.releases.all()))
        delivery_selectors.attach_release_progress(releases)
        return render(request, "roadmaps/releases.html", self.get_context_data(
            releases=releases, form=form or forms.ReleaseForm()), status=status)

    def save(self, data):
        services.child_create(actor=self.request.user, model=Release, product=self.product, data=data)


class ReleaseDetailView(ProductPageMixin, View):
    """Scope (initiatives and epics) and progress of one release; editors assign scope here."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _release(self, release_id):
        return get_object_or_404(selectors.releases_annotated(self.product.releases.all()), id=release_id)

    def get(self, request, ws, product_id, release_id, status=200, error=None):
        release = self._release(release_id)
        delivery_selectors.attach_release_progress([release])
        initiatives = list(selectors.initiatives_annotated(release.initiatives.all()).after_fetch(
            _initiative_progress))
        epics = backlog_selectors.epics_of_release(release=release)
        _attach_risk_flags(initiatives)
        release.risk_flags = governance_selectors.flags_for_releases(release_ids=[release.id]).get(release.id, [])
        release.readiness = governance_selectors.readiness_for_releases(release_ids=[release.id]).get(release.id)
        return render(request, "roadmaps/release_detail.html", self.get_context_data(
            release=release, initiatives=initiatives, epics=epics,
            other_initiatives=self.product.initiatives.exclude(release=release),
            other_epics=backlog_selectors.epics_for_choice(product=self.product).exclude(release=release),
            error=error), status=status)

    def post(self, request, ws, product_id, release_id):
        release = self._release(release_id)
        try:
            if request.POST.get("action") == "ship":
                services.release_mark_released(actor=request.user, release=release,
                                               override_reason=request.POST.get("override_reason", "")[:500])
                messages.success(request, f"{release.name} marked as released.")
            else:
                ids = [int(x) for x in request.POST.getlist("initiatives") if x.isdigit()]
                epics = [int(x) for x in request.POST.getlist("epics") if x.isdigit()]
                unassign = request.POST.get("action") == "unassign"
                if not ids and not epics:
                    raise ValidationError("Choose initiatives or epics.")
                link = {"unlink_from": release} if unassign else {"release": release}
                all_or_nothing(*[call for call in (
                    ids and (lambda: services.release_assign(actor=request.user, release=release,
                                                             initiative_ids=ids, unassign=unassign)),
                    epics and (lambda: backlog_services.epics_link(actor=request.user, product=self.product,
                                                                   epic_ids=epics, **link)),
                ) if call])
                messages.success(request, "Scope updated.")
        except ValidationError as e:
            return self.get(request, ws, product_id, release_id, status=400, error=" ".join(e.messages))
        return redirect("roadmaps:release", ws=ws, product_id=self.product.id, release_id=release.id)


# --- snapshots and share links ----------------------------------------------------------------------
class SnapshotsView(ProductFormView):
    required_role = Role.VIEWER
    write_role = Role.EDITOR
    form_class = forms.SnapshotForm
    success_message = "Snapshot saved."
    success_url = "roadmaps:snapshots"

    def _render(self, request, form=None, status=200):
        return render(request, "roadmaps/snapshots.html", self.get_context_data(
            snapshots=list(self.product.snapshots.select_related("created_by")),
            form=form or forms.SnapshotForm()), status=status)

    def save(self, data):
        services.snapshot_create(actor=self.request.user, product=self.product, name=data["name"])


class SnapshotCompareView(ProductPageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        snapshots = list(self.product.snapshots.all())
        by_id = {s.id: s for s in snapshots}
        a = by_id.get(selectors._int(request.GET.get("a")))
        b = by_id.get(selectors._int(request.GET.get("b")))
        current = None
        if a and request.GET.get("b") == "current":
            current = RoadmapSnapshot(name="Current roadmap", data=services.snapshot_payload(self.product))
            b = current
        diff = snapshot_diff(a.data, b.data) if a and b else None
        return render(request, "roadmaps/snapshot_compare.html", self.get_context_data(
            snapshots=snapshots, a=a, b=b, diff=diff, b_current=current is not None))


class SnapshotDeleteView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, snapshot_id):
        snapshot = get_object_or_404(RoadmapSnapshot, id=snapshot_id, product=self.product)
        services.child_delete(actor=request.user, obj=snapshot)
        messages.success(request, "Snapshot deleted.")
        return redirect("roadmaps:snapshots", ws=ws, product_id=self.product.id)


class ShareLinksView(ProductFormView):
    required_role = Role.EDITOR
    write_role = Role.EDITOR
    form_class = forms.ShareLinkForm

    def get_form(self, data=None):
        return forms.ShareLinkForm(data, product=self.product)

    def _render(self, request, form=None, new_url=None, new_link=None, status=200):
        links = list(self.product.share_links.all())
        for link in links:
            link.filter_text = share_filter_text(link, self.product)
        return render(request, "roadmaps/share_links.html", self.get_context_data(
            links=links, form=form or self.get_form(), new_url=new_url, new_link=new_link,
            now=timezone.now()), status=status)

    def save(self, data):
        return services.share_link_create(actor=self.request.user, product=self.product,
                                          **forms.ShareLinkForm.service_data(data))

    def saved(self, request, result):
        # Shown once, on this response only; only a hash is stored.
        link, raw = result
        url = request.build_absolute_uri(reverse("share:timeline", kwargs={"token": raw}))
        return self._render(request, new_url=url, new_link=link)


class ShareLinkRevokeView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, link_id):
        link = get_object_or_404(ShareLink, id=link_id, product=self.product)
        services.share_link_revoke(actor=request.user, link=link)
        messages.success(request, "Share link revoked.")
        return redirect("roadmaps:share_links", ws=ws, product_id=self.product.id)


def share_filter_text(link: ShareLink, product: Product) -> list[str]:
    """The link's filters as a person reads them ("Status: In progress", "Objective: Grow")."""
    filters = link.filters or {}
    parts = []
    if filters.get("status"):
        parts.append(f"Status: {Initiative.Status(filters['status']).label}")
    if filters.get("horizon"):
        parts.append(f"Horizon: {Initiative.Horizon(filters['horizon']).label}")
    if filters.get("objective"):
        objective = product.objectives.filter(id=filters["objective"]).values_list("title", flat=True).first()
        parts.append(f"Objective: {objective or 'deleted'}")
    if filters.get("release"):
        release = product.releases.filter(id=filters["release"]).values_list("name", flat=True).first()
        parts.append(f"Release: {release or 'deleted'}")
    if filters.get("label"):
        parts.append(f"Label: {filters['label']}")
    return parts


def _shared_link(token) -> ShareLink:
    link = services.share_link_resolve(token)
    if link is None:
        raise Http404("This link is not valid.")
    return link


def _shared_params(link: ShareLink) -> dict:
    """The link's filters as page parameters; a deleted objective or release matches nothing
    (never everything)."""
    return {k: str(v) for k, v in (link.filters or {}).items()}


def _shared_response(request, template, context):
    response = render(request, template, context)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"
    return response


def shared_roadmap(request, token):
    """Public, read-only roadmap of one product, in the view and with the filters the sharer chose
    (decisions/1401). Unknown, expired or revoked tokens are the product's 404 page."""
    link = _shared_link(token)
    product, params = link.product, _shared_params(link)
    context = {"product": product, "link": link, "shared": True, "filter_text": share_filter_text(link, product),
               "token": token}
    if link.view == ShareLink.View.BOARD:
        qs = selectors.initiatives_filtered(selectors.initiatives_annotated(product.initiatives.all()), params)
        columns = {h: [] for h in ("now", "next", "later", "")}
        if params.get("objective"):
            qs = qs.distinct()
        for i in qs.order_by("rank", "id").after_fetch(_initiative_progress):
            columns[i.horizon].append(i)
        titles = dict(Initiative.Horizon.choices) | {"": "Not placed"}
        # A horizon filter shows its one column; otherwise the three (and "Not placed" when used).
        context["columns"] = [{"key": k, "title": titles[k], "items": v} for k, v in columns.items()
                              if (k == params["horizon"] if params.get("horizon") else (v or k))]
        return _shared_response(request, "roadmaps/share_board.html", context)
    if link.view == ShareLink.View.LIST:
        qs = selectors.initiatives_filtered(selectors.initiatives_annotated(product.initiatives.all()), params)
        if params.get("objective"):
            qs = qs.distinct()
        items = list(qs.order_by("start_date", "id").after_fetch(_initiative_progress))
        visible = {i.id for i in items}
        states = selectors.initiative_schedule(initiatives=items, today=today_in(product.workspace.time_zone))
        for i in items:
            i.schedule = states[i.id]
        deps = [d for d in selectors.dependencies_annotated(Dependency.objects.filter(blocker__product=product))
                if d.blocker_id in visible and d.blocked_id in visible]
        context |= {"items": items, "dependencies": deps}
        return _shared_response(request, "roadmaps/share_list.html", context)
    scale = "quarter" if request.GET.get("scale") == "quarter" else "month"
    timeline = build_timeline(product=product, params=params, scale=scale, only_visible=True)
    context |= {"timeline": timeline, "lines_json": timeline["lines"]}
    return _shared_response(request, "roadmaps/share_timeline.html", context)


# --- presentation mode ------------------------------------------------------------------------------
SLIDE_ITEMS = 8  # per list on a slide, so that each slide prints on one landscape page


def presentation_slides(*, product: Product, params=None, shared: bool = False) -> dict:
    """The slides of a roadmap review (decisions/1402): the product and its vision, the business
    case, objectives with key results and their KPIs' health, Now / Next / Later, the timeline,
    releases with their scope's progress, and what is late or at risk. Every figure comes from its
    one selector (work progress: backlog; release progress: delivery; schedule: roadmaps.graph).
    `params` are a share link's filters: only the initiatives they select, and only their releases;
    a shared deck (`shared`) leaves out the vision and business case (a share link shows the roadmap)."""
    params = params or {}
    today = today_in(product.workspace.time_zone)
    initiatives = selectors.initiatives_filtered(selectors.initiatives_annotated(product.initiatives.all()), params)
    if params.get("objective"):
        initiatives = initiatives.distinct()
    initiatives = [i for i in initiatives.order_by("start_date", "rank", "id").after_fetch(_initiative_progress)
                   if i.status != Initiative.Status.CANCELLED]
    states = selectors.initiative_schedule(initiatives=initiatives, today=today)
    for i in initiatives:
        i.schedule = states[i.id]
    counts = graph.schedule_counts(states.values())
    filtered = bool(params)
    try:
        case = None if shared else product.business_case
    except BusinessCase.DoesNotExist:
        case = None
    objectives = []
    if not filtered or params.get("objective"):
        qs = product.objectives.order_by("start_date", "id")
        if params.get("objective"):
            qs = qs.filter(id=selectors._int(params["objective"]))
        objectives = selectors.objectives_with_progress(qs)
        backlog_selectors.attach_objective_work(objectives)
    # The product's KPIs with their health (metrics keeps current value and health on the KPI).
    kpis = [] if shared else list(product.kpis.order_by("name")[:6])
    horizons = []
    for key, title in Initiative.Horizon.choices:
        items = sorted((i for i in initiatives if i.horizon == key), key=lambda i: (i.rank, i.id))
        horizons.append({"key": key, "title": title, "items": items[:SLIDE_ITEMS],
                         "more": max(0, len(items) - SLIDE_ITEMS)})
    dated = [i for i in initiatives if i.start_date or i.end_date]
    lanes = dated[:SLIDE_ITEMS * 2]
    timeline = None
    if lanes:
        start, end = tl.timeline_range([d for i in lanes for d in (i.start_date, i.end_date)], today)
        for i in lanes:
            i.bar = tl.bar(i.start_date, i.end_date, start, end)
        # A phone shows quarters (a month is too narrow for "Nov 2026"), a wide screen months.
        timeline = {"columns": tl.columns(start, end, "quarter" if (end - start).days > 400 else "month"),
                    "narrow_columns": tl.columns(start, end, "quarter"),
                    "items": lanes, "more": len(dated) - len(lanes), "today": tl.marker(today, start, end)}
    release_ids = {i.release_id for i in initiatives if i.release_id} if filtered else None
    releases = list(product.releases.exclude(status=Release.Status.RELEASED).order_by("release_date", "id"))
    if release_ids is not None:
        releases = [r for r in releases if r.id in release_ids or str(r.id) == str(params.get("release"))]
    releases = releases[:SLIDE_ITEMS]
    delivery_selectors.attach_release_progress(releases)
    for r in releases:
        r.overdue = r.release_date is not None and r.release_date < today
    risks = sorted((i for i in initiatives if i.schedule in ("late", "at_risk")),
                   key=lambda i: (i.schedule != "late", i.end_date or today))
    slides = [{"key": "title", "title": f"{product.name}: roadmap review"}]
    if not shared and (case is not None or product.vision):
        slides.append({"key": "vision", "title": "Vision and business case"})
    if objectives or kpis:
        slides.append({"key": "objectives", "title": "Objectives and KPIs" if kpis else "Objectives and key results"})
    slides.append({"key": "horizons", "title": "Now / Next / Later"})
    slides.append({"key": "timeline", "title": "Timeline"})
    if releases:
        slides.append({"key": "releases", "title": "Releases"})
    slides.append({"key": "risks", "title": "Late and at risk"})
    return {"slides": slides, "today": today, "case": case, "objectives": objectives, "kpis": kpis,
            "horizons": horizons,
            "timeline": timeline, "releases": releases, "risks": risks[:SLIDE_ITEMS],
            "risks_more": max(0, len(risks) - SLIDE_ITEMS), "counts": counts,
            "initiative_count": len(initiatives)}


class PresentView(ProductPageMixin, View):
    """Presentation mode of the product's roadmap: one slide per section, full screen, printable."""

    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        context = self.get_context_data(
            deck=presentation_slides(product=self.product),
            exit_url=reverse("roadmaps:timeline", kwargs={"ws": ws, "product_id": self.product.id}))
        return render(request, "roadmaps/present.html", context)


def shared_present(request, token):
    """A share link's presentation, when its sharer allowed it (else 404, like a bad token)."""
    link = _shared_link(token)
    if not link.allow_present:
        raise Http404("This link is not valid.")
    product = link.product
    return _shared_response(request, "roadmaps/present.html", {
        "product": product, "shared": True, "link": link, "filter_text": share_filter_text(link, product),
        "deck": presentation_slides(product=product, params=_shared_params(link), shared=True),
        "exit_url": reverse("share:timeline", kwargs={"token": token})})
