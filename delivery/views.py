"""Delivery pages: iterations (plan, capacity, burn charts, velocity), release scope with
approval and change requests, CSV import (upload -> mapping -> preview -> confirm) and export."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views import View

from backlog import selectors as backlog_selectors
from backlog.models import Epic
from pmhub.clock import today_in
from pmhub.errors import Conflict
from pmhub.models import Membership, Role
from pmhub.utils import version_read
from pmhub.views import form_conflict, form_errors_from
from roadmaps.pages import ProductPageMixin

from . import cards, importer, selectors, services
from .forms import DecisionForm, IterationForm, ScopeChangeForm, StoryPickForm, UploadForm
from .models import ImportJob


def _url(name, view, **kwargs):
    return reverse(f"delivery:{name}", kwargs={"ws": view.workspace.slug, "product_id": view.product.id, **kwargs})



def _workflow_choices(product) -> list[tuple[str, str]]:
    return [(s["key"], s["label"]) for s in backlog_selectors.settings_of(product).workflow]


class IterationListView(ProductPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _context(self, form=None):
        iterations = list(selectors.iterations_of_product(product=self.product).order_by("-start_date"))
        for it in iterations:
            it.capacity = services.iteration_capacity(iteration=it)
        velocity = selectors.velocity_summary(product=self.product)
        chart = {"labels": [v["name"] for v in velocity["iterations"]],
                 "committed": [v["committed"] for v in velocity["iterations"]],
                 "completed": [v["completed"] for v in velocity["iterations"]]}
        releases = selectors.releases_for_user(user=self.request.user).filter(product=self.product)
        return self.get_context_data(iterations=iterations, form=form or IterationForm(), velocity=velocity,
                                     releases=releases,
                                     velocity_chart=chart, today=today_in(self.workspace.time_zone))

    def get(self, request, ws, product_id):
        return render(request, "delivery/iterations.html", self._context())

    def post(self, request, ws, product_id):
        form = IterationForm(request.POST)
        if form.is_valid():
            try:
                iteration = services.iteration_create(actor=request.user, product=self.product, **form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Iteration “{iteration.name}” created.")
                return redirect(_url("iteration", self, iteration_id=iteration.id))
        return render(request, "delivery/iterations.html", self._context(form), status=400)


class IterationPlanView(ProductPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR
    product_related = ("backlog_settings",)  # the workflow: card labels, the backlog's filter, the burn

    def _context(self, iteration, form=None):
        iteration.product = self.product  # the same product, read once with its settings
        series = selectors.burn_for(iteration=iteration)
        return self.get_context_data(
            iteration=iteration, capacity=services.iteration_capacity(iteration=iteration),
            **_backlog_chunk(self, iteration, offset=0, planned=True),
            burn=[d.as_dict() for d in series],
            form=form or IterationForm(initial={f: getattr(iteration, f) for f in IterationForm.base_fields}),
        )

    def get(self, request, ws, product_id, iteration_id):
        iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
        return render(request, "delivery/iteration.html", self._context(iteration))

    def post(self, request, ws, product_id, iteration_id):
        """Edit the iteration's name, dates and capacity (or delete it)."""
        iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
        if request.POST.get("delete"):
            services.iteration_delete(actor=request.user, iteration=iteration)
            messages.success(request, f"Iteration “{iteration.name}” deleted.")
            return redirect(_url("iterations", self))
        form = IterationForm(request.POST)
        if form.is_valid():
            try:
                services.iteration_update(actor=request.user, iteration=iteration, data=form.cleaned_data,
                                          version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "iteration")
                iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
                return render(request, "delivery/iteration.html", self._context(iteration, form), status=409)
            else:
                messages.success(request, "Iteration saved.")
                return redirect(_url("iteration", self, iteration_id=iteration.id))
        return render(request, "delivery/iteration.html", self._context(iteration, form), status=400)


# The planning column shows this many unplanned stories, then the next ones as it scrolls
# (hx-trigger="revealed"): a backlog of 20,000 stories is never rendered at once.
BACKLOG_CHUNK = 30


def _backlog_chunk(view, iteration, *, offset: int, planned: bool = False) -> dict:
    """The unplanned stories from `offset` (BACKLOG_CHUNK of them) as printed cards
    (delivery/cards.py), whether more follow, and the URL of the next ones; with `planned`, the
    iteration's own cards too (the page; the next chunks only need the first)."""
    rows = selectors.backlog_cards(product=view.product, offset=offset, limit=BACKLOG_CHUNK + 1)
    items_url = _url("iteration_items", view, iteration_id=iteration.id)
    workflow = backlog_selectors.settings_of(view.product).workflow
    can_edit = view.role >= Role.EDITOR
    printer = cards.StoryCards(can_edit=can_edit, items_url=items_url,
                               csrf_token=get_token(view.request) if can_edit else "",
                               labels={s["key"]: s["label"] for s in workflow})
    chunk = {
        "backlog": bool(rows),
        "backlog_cards": mark_safe(printer.cards(rows[:BACKLOG_CHUNK], "add")),  # noqa: S308 (escaped by StoryCards)
        "backlog_next": offset + BACKLOG_CHUNK if len(rows) > BACKLOG_CHUNK else None,
        "backlog_url": _url("iteration_backlog", view, iteration_id=iteration.id),
        "items_url": items_url,
    }
    if planned:
        chunk["planned_cards"] = mark_safe(  # noqa: S308 (escaped by StoryCards)
            printer.cards(selectors.iteration_cards(iteration=iteration), "remove"))
    return chunk


class IterationBacklogView(ProductPageMixin, View):
    """htmx: the next unplanned stories of the planning column (?offset=), as `<li>` cards with a
    "load more" item at the end while more follow."""

    required_role = Role.VIEWER
    write_role = None  # reads only: a POST is 405
    product_related = ("backlog_settings",)

    def get(self, request, ws, product_id, iteration_id):
        iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
        raw = request.GET.get("offset", "0")
        if not raw.isdigit() or int(raw) > 10_000_000:
            return HttpResponse("offset is a whole number from 0 to 10000000.", status=400)
        context = _backlog_chunk(self, iteration, offset=int(raw))
        return render(request, "delivery/_backlog_cards.html", self.get_context_data(iteration=iteration, **context))


class IterationItemsView(ProductPageMixin, View):
    """POST story=<id>&action=add|remove. JSON for the drag-and-drop script, a redirect for
    the plain form (the keyboard alternative works without JavaScript)."""

    write_role = Role.EDITOR

    def post(self, request, ws, product_id, iteration_id):
        iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
        form = StoryPickForm(request.POST)
        wants_json = request.headers.get("Accept", "").startswith("application/json")
        try:
            if not form.is_valid():
                raise ValidationError({"story": "Pick a story."})
            if request.POST.get("action") == "remove":
                services.iteration_remove_story(actor=request.user, iteration=iteration,
                                                story_id=form.cleaned_data["story"])
            else:
                services.iteration_add_story(actor=request.user, iteration=iteration,
                                             story_id=form.cleaned_data["story"])
        except ValidationError as e:
            if wants_json:
                return JsonResponse({"errors": e.message_dict if hasattr(e, "error_dict") else e.messages},
                                    status=400)
            messages.error(request, " ".join(e.messages))
            return redirect(_url("iteration", self, iteration_id=iteration.id))
        if wants_json:
            iteration = selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)
            return JsonResponse({"capacity": services.iteration_capacity(iteration=iteration)})
        removed = request.POST.get("action") == "remove"
        messages.success(request, "Story taken out of the iteration." if removed else "Story added to the iteration.")
        return redirect(_url("iteration", self, iteration_id=iteration.id) + "#plan")


class ReleaseScopeView(ProductPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _context(self, release, form=None):
        summary = selectors.scope_summary(release=release)
        in_scope = {s.id for s in summary["stories"]}
        candidates = [s for s in selectors.backlog_stories(product=self.product, limit=500) if s.id not in in_scope]
        return self.get_context_data(release=release, summary=summary, candidates=candidates,
                                     change_requests=list(selectors.change_requests_of(release=release)),
                                     velocity=selectors.velocity_summary(product=self.product),
                                     form=form or ScopeChangeForm())

    def get(self, request, ws, product_id, release_id):
        release = selectors.release_for_product(product=self.product, release_id=release_id)
        return render(request, "delivery/release_scope.html", self._context(release))

    def post(self, request, ws, product_id, release_id):
        release = selectors.release_for_product(product=self.product, release_id=release_id)
        form = ScopeChangeForm(request.POST)
        if form.is_valid():
            try:
                result = services.scope_change(actor=request.user, release=release,
                                               story_id=form.cleaned_data["story"], kind=form.cleaned_data["kind"],
                                               reason=form.cleaned_data["reason"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                if hasattr(result, "points_delta"):
                    messages.success(request, "Change request sent to the workspace admins.")
                else:
                    messages.success(request, "Scope updated.")
                return redirect(_url("release_scope", self, release_id=release.id))
        return render(request, "delivery/release_scope.html", self._context(release, form), status=400)


class ScopeApproveView(ProductPageMixin, View):
    write_role = Role.ADMIN

    def post(self, request, ws, product_id, release_id):
        release = selectors.release_for_product(product=self.product, release_id=release_id)
        services.scope_approve(actor=request.user, release=release, note=request.POST.get("note", ""))
        messages.success(request, "Scope approved: later changes go through change requests.")
        return redirect(_url("release_scope", self, release_id=release.id))


class ChangeRequestDecideView(ProductPageMixin, View):
    write_role = Role.ADMIN

    def post(self, request, ws, product_id, release_id, cr_id):
        release = selectors.release_for_product(product=self.product, release_id=release_id)
        cr = get_object_or_404(release.change_requests.select_related("story"), pk=cr_id)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose approve or reject.")
            return redirect(_url("release_scope", self, release_id=release.id))
        try:
            services.change_request_decide(actor=request.user, change_request=cr,
                                           approve=form.cleaned_data["decision"] == "approve",
                                           note=form.cleaned_data["note"])
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, f"Change request {cr.status}.")
        return redirect(_url("release_scope", self, release_id=release.id))


class ImportUploadView(ProductPageMixin, View):
    """Upload for editors; the export half of the page is for everyone who can read."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _context(self, form=None):
        imports = (selectors.imports_for_user(user=self.request.user).filter(product=self.product)[:10]
                   if self.role >= Role.EDITOR else [])
        return self.get_context_data(form=form or UploadForm(), imports=imports,
                                     statuses=_workflow_choices(self.product),
                                     epics=Epic.objects.filter(product=self.product).order_by("title"),
                                     members=Membership.objects.filter(workspace=self.workspace)
                                     .select_related("user").order_by("user__email"))

    def get(self, request, ws, product_id):
        return render(request, "delivery/import.html", self._context())

    def post(self, request, ws, product_id):
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_upload(actor=request.user, product=self.product, filename=upload.name,
                                             data=upload.read(services.MAX_IMPORT_BYTES + 1))
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "File uploaded. Map its columns, then preview.")
                return redirect(_url("import_detail", self, import_id=job.id))
        return render(request, "delivery/import.html", self._context(form), status=400)


def _import_of(view, import_id) -> ImportJob:
    job = (ImportJob.objects.select_related("product", "job").defer("raw")
           .filter(product=view.product, pk=import_id).first())
    if job is None:
        raise Http404("Not found.")
    return job


class ImportDetailView(ProductPageMixin, View):
    """Mapping and preview of one staged import; POST saves the mapping and previews."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _context(self, job, errors=None, typed=None):
        """`typed`: (mapping, status_map) as sent, so a refused preview comes back with what was
        chosen (not the stored mapping). Errors keyed "mapping" are the title's (nothing is
        imported without it) and are shown at its column; the others above the form."""
        errors = errors or {}
        mapping = job.mapping or {}
        status_map = mapping.get("_status_map", {})
        if typed is not None:
            mapping = importer.clean_mapping(typed[0], len(job.headers))
            status_map = typed[1]
        field_errors = {"title": errors.get("mapping", [])}
        columns = [{"field": field, "label": label, "errors": field_errors.get(field, []),
                    "selected": mapping.get(field, []), "multi": field in importer.MULTI_FIELDS}
                   for field, label in importer.FIELDS.items()]
        unknown = [{"value": value, "count": count, "chosen": status_map.get(value, "")}
                   for value, count in ((job.preview or {}).get("unknown_statuses") or {}).items()]
        return self.get_context_data(job=job, columns=columns, headers=list(enumerate(job.headers)),
                                     preview=job.preview, unknown_statuses=unknown,
                                     errors=[m for k, msgs in errors.items() if k != "mapping" for m in msgs],
                                     statuses=_workflow_choices(self.product), status_map=status_map)

    def get(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        return render(request, "delivery/import_detail.html", self._context(job))

    def post(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        mapping = {field: request.POST.getlist(f"map_{field}") for field in importer.FIELDS}
        mapping = {f: [c for c in cols if c != ""] for f, cols in mapping.items()}
        status_map = {k[len("status_"):]: v for k, v in request.POST.items() if k.startswith("status_") and v}
        try:
            services.import_preview(actor=request.user, job=job, mapping=mapping, status_map=status_map)
        except ValidationError as e:
            errors = e.message_dict if hasattr(e, "error_dict") else {"__all__": e.messages}
            return render(request, "delivery/import_detail.html",
                          self._context(job, errors, typed=(mapping, status_map)), status=400)
        messages.success(request, "Preview ready. Nothing is imported until you confirm.")
        return redirect(_url("import_detail", self, import_id=job.id) + "#preview")


class ImportReadingView(ProductPageMixin, View):
    """htmx partial polled (every 1 s) while the worker reads the file; once it has, the page
    reloads itself (HX-Refresh) to show the mapping or the reason the file was refused."""

    required_role = Role.EDITOR

    def get(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        response = render(request, "delivery/_import_reading.html", {"job": job, "product": self.product,
                                                                    "workspace": self.workspace})
        if job.status != ImportJob.Status.PARSING:
            response["HX-Refresh"] = "true"
        return response


class ImportConfirmView(ProductPageMixin, View):
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        try:
            services.import_confirm(actor=request.user, job=job)
        except ValidationError as e:
            messages.error(request, " ".join(e.messages))
        else:
            messages.success(request, "Import started.")
        return redirect(_url("import_detail", self, import_id=job.id))


class ExportView(ProductPageMixin, View):
    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        filters = {k: request.GET.get(k, "").strip() for k in ("status", "epic", "assignee", "label")}
        body = services.export_csv(actor=request.user, product=self.product, filters=filters)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="product-{self.product.id}-backlog.csv"'
        return response
