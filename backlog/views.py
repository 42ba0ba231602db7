"""Backlog pages (htmx partials for inline edits, moves and load-more). Thin: parse the
request, call a service or selector, render."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import HttpResponse, JsonResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import BackgroundJob, Role
from pmhub.utils import reverse_prefix, safe_next, version_read
from roadmaps.pages import ProductPageMixin

from . import scoring, selectors, services
from .cards import BoardCards
from .models import CATEGORIES, AcceptanceCriterion, CustomField, Epic, ScoringModel, Story

PAGE_SIZE = 50
BOARD_MAX_OFFSET = 10_000_000
FILTER_KEYS = [
    "q",
    "status",
    "epic",
    "assignee",
    "label",
    "moscow",
    "kano",
    "score_min",
    "score_max",
    "scored",
    "sort",
    "group",
]
BASE_COLUMNS = ["epic", "status", "points", "assignee", "labels", "score"]


def _errors(exc: ValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _int_or_none(value):
    value = (value or "").strip() if isinstance(value, str) else value
    if value in (None, "", "none"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({"__all__": f"Not a number: {value!r}."})


def _story_data_from_post(post: QueryDict, *, fields: list[CustomField], model: ScoringModel) -> dict:
    """Map a story form (full or inline) to service data; only the fields present are set.
    Every field that cannot be read is reported at once, in words, under its own name."""
    data: dict = {}
    errors: dict[str, str] = {}
    for key in ("title", "as_a", "i_want", "so_that", "description", "status", "moscow", "kano"):
        if key in post:
            data[key] = post.get(key, "")
    if "points" in post:
        raw = post.get("points", "").strip()
        try:
            points = int(raw) if raw else None
        except ValueError:
            errors["points"] = "Points must be a whole number, such as 3."
        else:
            if points is not None and points < 0:
                errors["points"] = "Points must be 0 or more."
            data["points"] = points
    for key in ("epic_id", "assignee_id"):
        if key in post:
            try:
                data[key] = _int_or_none(post.get(key))
            except ValidationError:
                errors[key] = "Choose one from the list."
    if "labels" in post:
        data["labels"] = [x.strip() for x in post.get("labels", "").split(",") if x.strip()]
    inputs = {
        k: post.get(f"input_{k}", "").strip()
        for k in scoring.input_keys(model.framework, model.criteria)
        if f"input_{k}" in post
    }
    for k, v in inputs.items():
        try:
            if v != "":
                float(v)
        except ValueError:
            errors[f"input_{k}"] = f"{k.replace('_', ' ').capitalize()} must be a number (“{v}” is not)."
    if inputs:
        data["score_inputs"] = {k: (v if v != "" else None) for k, v in inputs.items()}
    custom = {}
    for f in fields:
        name = f"cf_{f.key}"
        if name in post:
            # a multi-select's check list always sends one empty value, so ticking none clears it
            custom[f.key] = [v for v in post.getlist(name) if v != ""] if f.type == "multi_select" else post.get(name)
    if custom:
        data["custom_values"] = custom
    if errors:
        raise ValidationError(errors)
    return data


def _story_as_typed(story: Story, post: QueryDict) -> Story:
    """The story with what the person typed laid over it (not saved), so a form that comes back
    with an error keeps their work."""
    for key in ("title", "as_a", "i_want", "so_that", "description", "status", "moscow", "kano"):
        if key in post:
            setattr(story, key, post.get(key, ""))
    if "points" in post:
        story.points = post.get("points", "").strip()
    if "labels" in post:
        story.labels = [x.strip() for x in post.get("labels", "").split(",") if x.strip()]
    for key in ("epic_id", "assignee_id"):
        raw = post.get(key, "")
        if key in post:
            setattr(story, key, int(raw) if raw.isdigit() else None)
    typed_inputs = {k[len("input_"):]: v for k, v in post.items() if k.startswith("input_")}
    if typed_inputs:
        story.score_inputs = {**(story.score_inputs or {}), **typed_inputs}
    typed_custom = {k[len("cf_"):]: ([v for v in post.getlist(k) if v != ""] if len(post.getlist(k)) > 1
                                     else post.get(k)) for k in post if k.startswith("cf_")}
    if typed_custom:
        story.custom_values = {**(story.custom_values or {}), **typed_custom}
    return story


def _title_errors(exc: ValidationError) -> dict:
    """Errors of a one-box form (quick add, a view's name): every message goes under the box."""
    return {"title": [m for ms in _errors(exc).values() for m in ms]}


def _epic_as_typed(epic, post: QueryDict):
    """The epic with what the person typed laid over it (not saved)."""
    for key in ("title", "description", "status"):
        if key in post:
            setattr(epic, key, post.get(key, ""))
    for key in ("initiative_id", "release_id"):
        if key in post:
            raw = post.get(key, "")
            setattr(epic, key, int(raw) if raw.isdigit() else None)
    typed = {k[len("input_"):]: v for k, v in post.items() if k.startswith("input_")}
    if typed:
        epic.score_inputs = {**(epic.score_inputs or {}), **typed}
    return epic


class BacklogBase(ProductPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR
    product_related = ("backlog_settings",)

    def story(self, story_id) -> Story:
        story = selectors.story_of_product(product=self.product, story_id=story_id)
        return selectors.with_texts([story])[0]

    def params(self) -> QueryDict:
        """Filters from the URL, or from a saved view (?view=<id>) overlaid by the URL."""
        params = QueryDict(mutable=True)
        view_id = self.request.GET.get("view")
        if view_id and view_id.isdigit():
            view = selectors.saved_views_for(user=self.request.user, product=self.product).filter(id=view_id).first()
            if view:
                for k, v in (view.config.get("filters") or {}).items():
                    params[k] = v
                for k in ("sort", "group"):
                    if view.config.get(k):
                        params[k] = view.config[k]
                if view.config.get("columns"):
                    params["columns"] = ",".join(view.config["columns"])
        for k, v in self.request.GET.items():
            if v != "":
                params[k] = v
        return params

    def row_context(self, params=None):
        fields = selectors.custom_fields_of(self.product)
        members = selectors.member_choices(self.product.workspace_id)
        settings = selectors.settings_of(self.product)
        columns_param = (params or {}).get("columns")
        all_columns = BASE_COLUMNS + [f"cf_{f.key}" for f in fields]
        columns = [c for c in columns_param.split(",") if c in all_columns] if columns_param else all_columns
        group = (params or {}).get("group", "")
        sort_choices = [
            ("rank", "Backlog order"),
            ("-score", "Score, high first"),
            ("score", "Score, low first"),
            ("title", "Title"),
            ("points", "Points, low first"),
            ("-points", "Points, high first"),
            ("status", "Status"),
            ("-created_at", "Newest"),
        ]
        sort_choices += [(f"cf_{f.key}", f.label) for f in fields] + [(f"-cf_{f.key}", f"{f.label} ↓") for f in fields]
        group_choices = [("", "No grouping"), ("epic", "Epic"), ("status", "Status"), ("assignee", "Assignee")]
        group_choices += [(f"cf_{f.key}", f.label) for f in fields]
        return {
            "group_key": group[3:] if group.startswith("cf_") else "",
            "sort_choices": sort_choices,
            "group_choices": group_choices,
            "fields": fields,
            "shown_fields": [f for f in fields if f"cf_{f.key}" in columns],
            "columns": columns,
            "all_columns": all_columns,
            "members": members,
            "member_names": dict(members),
            "workflow": settings.workflow,
            "status_labels": {s["key"]: s["label"] for s in settings.workflow},
            "status_choices": [(s["key"], s["label"]) for s in settings.workflow],
            # Rows link ".../stories/<id>/" (and its row/, move/): one reverse per page, not per row.
            "stories_url": reverse_prefix("backlog:story", {"ws": self.product.workspace.slug,
                                                            "product_id": self.product.id}, "story_id"),
            # (id, title) rows, not model instances: a product has hundreds of epics.
            "epics": selectors.epic_choices(product_id=self.product.pk),
            "can_edit": self.role >= Role.EDITOR,
        }


class BacklogView(BacklogBase):
    """The backlog list: filters, grouping, sort, saved views, first page; the rest loads on scroll."""

    def get(self, request, ws, product_id):
        return self.page(request)

    def page(self, request, status=200, **extra):
        """The list; `extra` carries a form's errors and what was typed when it comes back (400)."""
        params = self.params()
        context = self.row_context(params)
        context.update(add_errors={}, view_errors={}, typed=QueryDict())
        if params:
            stories = list(selectors.stories_for_backlog(product=self.product, params=params,
                                                         fields=context["fields"])[: PAGE_SIZE + 1])
        else:  # the backlog as it opens: one query compiled once (decision 2134)
            stories = selectors.backlog_first_rows(product=self.product, limit=PAGE_SIZE + 1)
        has_more = len(stories) > PAGE_SIZE
        query = params.copy()
        query["offset"] = PAGE_SIZE
        context.update(
            stories=selectors.with_texts(stories[:PAGE_SIZE]),
            has_more=has_more,
            next_query=query.urlencode(),
            params=params,
            group=params.get("group", ""),
            sort=params.get("sort", "rank"),
            sortable=params.get("sort", "rank") == "rank" and not params.get("group"),
            saved_views=selectors.saved_views_list(user=request.user, product=self.product),
            query_string=params.urlencode(),
            moscow_choices=Story.MoSCoW.choices,
            kano_choices=Story.Kano.choices,
            **extra,
        )
        return render(request, "backlog/list.html", self.get_context_data(**context), status=status)

    def post(self, request, ws, product_id):
        """Quick add: a title (and optional epic) at the bottom of the backlog."""
        try:
            services.story_create(
                actor=request.user,
                product=self.product,
                title=request.POST.get("title", ""),
                epic_id=_int_or_none(request.POST.get("epic_id")),
            )
        except ValidationError as e:
            return self.page(request, status=400, add_errors=_title_errors(e), typed=request.POST)
        messages.success(request, "Story added at the bottom of the backlog.")
        return redirect(reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id}))


class RowsView(BacklogBase):
    """htmx: the next page of rows (hx-trigger="revealed" on the last row)."""

    write_role = None

    def get(self, request, ws, product_id):
        params = self.params()
        try:
            offset = max(0, int(params.get("offset", 0)))
        except ValueError:
            offset = 0
        context = self.row_context(params)
        stories = list(
            selectors.stories_for_backlog(product=self.product, params=params, fields=context["fields"])[
                offset : offset + PAGE_SIZE + 1
            ]
        )
        query = params.copy()
        query["offset"] = offset + PAGE_SIZE
        context.update(
            stories=selectors.with_texts(stories[:PAGE_SIZE]),
            has_more=len(stories) > PAGE_SIZE,
            next_query=query.urlencode(),
            group=params.get("group", ""),
            sortable=params.get("sort", "rank") == "rank",
        )
        return render(request, "backlog/_rows.html", self.get_context_data(**context))


class RowView(BacklogBase):
    """htmx: one row, read-only (GET) or its inline editor (GET ?edit=1); POST saves inline edits."""

    def get(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        template = "backlog/_row_edit.html" if request.GET.get("edit") else "backlog/_row.html"
        return render(request, template, self.get_context_data(story=story, **self.row_context()))

    def post(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        context = self.row_context()
        try:
            data = _story_data_from_post(
                request.POST, fields=context["fields"], model=selectors.scoring_model_of(self.product)
            )
            version = version_read(request.POST.get("version"))
            services.story_update(actor=request.user, story=story, data=data, version=version)
        except ValidationError as e:  # the editor again, with what was typed and the errors at the fields
            return render(
                request,
                "backlog/_row_edit.html",
                self.get_context_data(story=_story_as_typed(self.story(story_id), request.POST), errors=_errors(e),
                                      **context),
                status=400,
            )
        except Conflict:
            story = self.story(story_id)
            return render(
                request,
                "backlog/_row_edit.html",
                self.get_context_data(story=story, conflict=True, **context),
                status=409,
            )
        story = self.story(story_id)
        messages.success(request, f"“{story.title}” saved.")  # a toast through HX-Trigger (HtmxMessagesMiddleware)
        return render(request, "backlog/_row.html", self.get_context_data(story=story, **context))


class MoveView(BacklogBase):
    required_role = None

    def post(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        try:
            services.story_move(
                actor=request.user,
                story=story,
                before=_int_or_none(request.POST.get("before")),
                after=_int_or_none(request.POST.get("after")),
            )
        except ValidationError as e:
            return HttpResponse(json.dumps(_errors(e)), status=400, content_type="application/json")
        return HttpResponse(json.dumps({"id": story.id, "rank": story.rank}), content_type="application/json")


class BulkView(BacklogBase):
    required_role = None

    def post(self, request, ws, product_id):
        epic = request.POST.get("epic_id", "")
        try:
            count = services.stories_bulk_update(
                actor=request.user,
                product=self.product,
                ids=request.POST.getlist("ids"),
                status=request.POST.get("status") or None,
                epic_id=("" if epic == "" else (None if epic == "none" else _int_or_none(epic))),
                add_labels=[x.strip() for x in request.POST.get("add_labels", "").split(",") if x.strip()],
                remove_labels=[x.strip() for x in request.POST.get("remove_labels", "").split(",") if x.strip()],
            )
            messages.success(request, f"{count} stories updated.")
        except ValidationError as e:
            messages.error(request, " ".join(m for ms in _errors(e).values() for m in ms))
            url = reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id})
            return redirect(f"{url}?{request.POST.get('query', '')}")
        url = reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id})
        return redirect(f"{url}?{request.POST.get('query', '')}")


class SavedViewSaveView(BacklogBase):
    required_role = None
    write_role = Role.VIEWER

    def post(self, request, ws, product_id):
        query = QueryDict(request.POST.get("query", ""))
        filters = {
            k: v
            for k, v in query.items()
            if (k in FILTER_KEYS or k.startswith("cf_")) and k not in ("sort", "group") and v
        }
        config = {"filters": filters, "sort": query.get("sort", "rank"), "group": query.get("group", "")}
        if query.get("columns"):
            config["columns"] = query["columns"].split(",")
        try:
            view = services.saved_view_create(
                actor=request.user,
                product=self.product,
                name=request.POST.get("name", ""),
                config=config,
                shared=request.POST.get("shared") == "on",
            )
        except ValidationError as e:
            errors = {"name": _title_errors(e)["title"]}
            return BacklogView.page(self, request, status=400, view_errors=errors, typed=request.POST)
        messages.success(request, f"View “{view.name}” saved.")
        return redirect(reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id}) + f"?view={view.id}")


class SavedViewDeleteView(BacklogBase):
    required_role = None
    write_role = Role.VIEWER

    def post(self, request, ws, product_id, view_id):
        view = get_object_or_404(selectors.saved_views_for(user=request.user, product=self.product), id=view_id)
        services.saved_view_delete(actor=request.user, view=view)
        messages.success(request, f"View “{view.name}” deleted.")
        return redirect(reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id}))


class StoryView(BacklogBase):
    """A story: user story, acceptance criteria, score explained, demand, comments; edit form."""

    # Its scoring model too: read with the product, it costs no query of its own.
    product_related = ("backlog_settings", "scoring_model")

    def context(self, story, errors=None, conflict=False):
        model = selectors.scoring_model_of(self.product)
        ctx = self.row_context()
        ctx.update(
            story=story,
            errors=errors or {},
            conflict=conflict,
            model=model,
            input_keys=scoring.input_keys(model.framework, model.criteria),
            explanation=services.explain(story, model).as_dict(),
            demand=selectors.demand_of(story),
            comments=selectors.story_comments(story_id=story.pk),
            criteria=selectors.story_criteria(story_id=story.pk),
            moscow_choices=Story.MoSCoW.choices,
            kano_choices=Story.Kano.choices,
            typed_comment="",
            typed_criterion="",
        )
        return self.get_context_data(**ctx)

    def get(self, request, ws, product_id, story_id):
        return render(request, "backlog/story.html", self.context(self.story(story_id)))

    def post(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        try:
            data = _story_data_from_post(
                request.POST,
                fields=selectors.custom_fields_of(self.product),
                model=selectors.scoring_model_of(self.product),
            )
            services.story_update(
                actor=request.user, story=story, data=data,
                version=version_read(request.POST.get("version")),
            )
        except ValidationError as e:
            ctx = self.context(self.story(story_id), _errors(e))
            ctx["story"] = _story_as_typed(self.story(story_id), request.POST)  # figures stay the saved ones
            return render(request, "backlog/story.html", ctx, status=400)
        except Conflict:
            return render(request, "backlog/story.html", self.context(self.story(story_id), conflict=True), status=409)
        messages.success(request, "Story saved.")
        return redirect(request.path)


class StoryDeleteView(BacklogBase):
    required_role = None

    def post(self, request, ws, product_id, story_id):
        services.story_delete(actor=request.user, story=self.story(story_id))
        messages.success(request, "Story deleted.")
        return redirect(reverse("backlog:list", kwargs={"ws": ws, "product_id": product_id}))


class CommentView(BacklogBase):
    required_role = None

    def post(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        try:
            services.comment_create(actor=request.user, story=story, body=request.POST.get("body", ""))
        except ValidationError as e:
            ctx = StoryView.context(self, story, {"body": [m for ms in _errors(e).values() for m in ms]})
            ctx["typed_comment"] = request.POST.get("body", "")
            return render(request, "backlog/story.html", ctx, status=400)
        messages.success(request, "Comment added.")
        return redirect(reverse("backlog:story", kwargs={"ws": ws, "product_id": product_id, "story_id": story.id}))


class CriterionView(BacklogBase):
    required_role = None

    def post(self, request, ws, product_id, story_id, criterion_id=None):
        story = self.story(story_id)
        try:
            if criterion_id is None:
                services.criterion_add(actor=request.user, story=story, text=request.POST.get("text", ""))
            else:
                criterion = get_object_or_404(AcceptanceCriterion, id=criterion_id, story=story)
                services.criterion_toggle(
                    actor=request.user, criterion=criterion, done=request.POST.get("done") == "on"
                )
        except ValidationError as e:
            if criterion_id is not None:
                messages.error(request, " ".join(m for ms in _errors(e).values() for m in ms))
                return redirect(reverse("backlog:story", kwargs={"ws": ws, "product_id": product_id,
                                                                 "story_id": story.id}))
            ctx = StoryView.context(self, story, {"text": [m for ms in _errors(e).values() for m in ms]})
            ctx["typed_criterion"] = request.POST.get("text", "")
            return render(request, "backlog/story.html", ctx, status=400)
        if criterion_id is None:
            messages.success(request, "Criterion added.")
        return redirect(reverse("backlog:story", kwargs={"ws": ws, "product_id": product_id, "story_id": story.id}))


class EpicsView(BacklogBase):
    def context(self, errors=None, typed=None):
        # ?sort=demand: Epic.demand, the figure of each epic's "Who asked" panel (services.demand_recompute).
        sort = "demand" if self.request.GET.get("sort") == "demand" else "score"
        epics = list(
            Epic.objects.filter(product=self.product)
            .select_related("initiative__release", "release")
            .order_by(*((F("demand").desc(), "id") if sort == "demand" else (F("score").desc(nulls_last=True), "id")))
        )
        selectors.attach_epic_progress(epics)
        selectors.with_status_labels(epics, self.product)
        return self.get_context_data(
            epics=epics,
            sort=sort,
            errors=errors or {},
            typed=typed or {},
            workflow=selectors.settings_of(self.product).workflow,
            initiatives=self.product.initiatives.all(),
            releases=self.product.releases.all(),
        )

    def get(self, request, ws, product_id):
        return render(request, "backlog/epics.html", self.context())

    def post(self, request, ws, product_id):
        try:
            services.epic_create(
                actor=request.user,
                product=self.product,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                initiative_id=_int_or_none(request.POST.get("initiative_id")),
                release_id=_int_or_none(request.POST.get("release_id")),
            )
        except ValidationError as e:
            return render(request, "backlog/epics.html", self.context(_errors(e), request.POST), status=400)
        messages.success(request, "Epic created.")
        return redirect(request.path)


class EpicView(BacklogBase):
    def epic(self, epic_id):
        return get_object_or_404(Epic.objects.select_related("initiative__release", "release"), id=epic_id,
                                 product=self.product)

    def context(self, epic, errors=None, typed=None):
        model = selectors.scoring_model_of(self.product)
        selectors.attach_epic_progress([epic])
        return self.get_context_data(
            epic=epic,
            form_epic=_epic_as_typed(self.epic(epic.id), typed) if typed is not None else epic,
            errors=errors or {},
            stories=selectors.with_status_labels(list(epic.stories.select_related("assignee")), self.product),
            initiatives=self.product.initiatives.all(),
            releases=self.product.releases.all(),
            workflow=selectors.settings_of(self.product).workflow,
            model=model,
            input_keys=scoring.input_keys(model.framework, model.criteria),
            explanation=services.explain(epic, model).as_dict(),
        )

    def get(self, request, ws, product_id, epic_id):
        return render(request, "backlog/epic.html", self.context(self.epic(epic_id)))

    def post(self, request, ws, product_id, epic_id):
        epic = self.epic(epic_id)
        model = selectors.scoring_model_of(self.product)
        data = {k: request.POST.get(k, "") for k in ("title", "description", "status") if k in request.POST}
        inputs = {
            k: request.POST.get(f"input_{k}", "").strip() or None
            for k in scoring.input_keys(model.framework, model.criteria)
            if f"input_{k}" in request.POST
        }
        if inputs:
            data["score_inputs"] = inputs
        try:
            for link in ("initiative_id", "release_id"):
                if link in request.POST:
                    data[link] = _int_or_none(request.POST.get(link))
            services.epic_update(
                actor=request.user, epic=epic, data=data,
                version=version_read(request.POST.get("version")),
            )
        except ValidationError as e:
            return render(request, "backlog/epic.html", self.context(self.epic(epic_id), _errors(e), request.POST),
                          status=400)
        except Conflict:
            messages.error(request, "Someone else changed this epic; here is the current version.")
        else:
            messages.success(request, "Epic saved.")
        return redirect(request.path)


class ScoringView(BacklogBase):
    """The model's settings, a what-if preview (GET with candidate weights: no writes), the
    value-vs-effort chart, and saving (POST: starts the re-scoring job)."""

    def _candidate(self, source) -> tuple[str, list[dict]]:
        framework = source.get("framework") or selectors.scoring_model_of(self.product).framework
        criteria = []
        for i in range(int(source.get("criteria_count", 0) or 0) + 1):
            key = (source.get(f"c{i}_key") or "").strip()
            if not key:
                continue
            criteria.append(
                {
                    "key": key,
                    "label": source.get(f"c{i}_label") or key,
                    "weight": source.get(f"c{i}_weight") or "1",
                    "against": source.get(f"c{i}_against") == "on",
                    "source": source.get(f"c{i}_source") or "input",
                    **({"field": source.get(f"c{i}_field")} if source.get(f"c{i}_field") else {}),
                }
            )
        return framework, criteria

    def context(self, *, errors=None, job=None):
        model = selectors.scoring_model_of(self.product)
        preview = None
        framework, criteria = model.framework, model.criteria
        if self.request.GET.get("what_if"):
            framework, criteria = self._candidate(self.request.GET)
            try:
                preview = services.what_if(product=self.product, framework=framework, criteria=criteria)
            except ValidationError as e:
                errors = _errors(e)
        points = [
            {"x": float(s.score_inputs["effort"]), "y": float(s.score_inputs["value"]), "label": s.title}
            for s in Story.objects.filter(product=self.product).only("title", "score_inputs")[:500]
            if _is_num(s.score_inputs.get("effort")) and _is_num(s.score_inputs.get("value"))
        ]
        top = selectors.top_by_score(product=self.product, limit=15)
        if job is None:
            job = BackgroundJob.objects.filter(
                workspace_id=self.product.workspace_id, kind="backlog.rescore", params__product_id=self.product.id
            ).first()
        rows = list(criteria) + [{"key": "", "label": "", "weight": 1, "against": False, "source": "input"}] * 2
        return self.get_context_data(
            model=model,
            framework=framework,
            criteria_rows=rows,
            errors=errors or {},
            preview=preview,
            chart_points=points,
            top=top,
            job=job,
            frameworks=ScoringModel.Framework.choices,
            formulas=scoring.FORMULAS,
            fields=selectors.custom_fields_of(self.product),
        )

    def get(self, request, ws, product_id):
        return render(request, "backlog/scoring.html", self.context())

    def post(self, request, ws, product_id):
        framework, criteria = self._candidate(request.POST)
        try:
            _, job = services.scoring_model_update(
                actor=request.user, product=self.product, framework=framework, criteria=criteria
            )
        except ValidationError as e:
            return render(request, "backlog/scoring.html", self.context(errors=_errors(e)), status=400)
        messages.success(request, "Scoring model saved; re-scoring the backlog.")
        return render(request, "backlog/scoring.html", self.context(job=job))


def _is_num(v) -> bool:
    try:
        float(v)
        return True
    except (TypeError, ValueError):
        return False


class SettingsView(BacklogBase):
    """Custom fields, workflow and segment weights (admins change them)."""

    write_role = Role.ADMIN

    def context(self, errors=None, typed=None):
        settings = selectors.settings_of(self.product)
        typed = typed or QueryDict()
        action = typed.get("action")
        context = self.get_context_data(
            custom_fields=CustomField.objects.filter(product=self.product),
            errors=errors or {},
            types=CustomField.Type.choices,
            categories=CATEGORIES,
            workflow_text="\n".join(f"{s['key']}|{s['label']}|{s['category']}" for s in settings.workflow),
            weights_text="\n".join(f"{k}={v}" for k, v in settings.segment_weights.items()),
            field_typed=QueryDict(),
            field_errors={},
        )
        # A form that comes back with an error shows what was typed and its errors at its fields.
        if action == "field":
            context.update(field_typed=typed, field_errors=errors or {})
        elif action == "workflow":
            context["workflow_text"] = typed.get("workflow", "")
        elif action == "weights":
            context["weights_text"] = typed.get("weights", "")
        return context

    def get(self, request, ws, product_id):
        return render(request, "backlog/settings.html", self.context())

    def post(self, request, ws, product_id):
        action = request.POST.get("action")
        try:
            if action == "field":
                services.custom_field_create(
                    actor=request.user,
                    product=self.product,
                    key=request.POST.get("key", "").strip(),
                    label=request.POST.get("label", ""),
                    type=request.POST.get("type", ""),
                    entity=request.POST.get("entity", "story"),
                    options=[o.strip() for o in request.POST.get("options", "").split(",") if o.strip()],
                    required=request.POST.get("required") == "on",
                )
            elif action == "delete_field":
                field = get_object_or_404(CustomField, id=request.POST.get("field_id"), product=self.product)
                services.custom_field_delete(actor=request.user, field=field)
            elif action == "workflow":
                workflow = []
                for line in request.POST.get("workflow", "").splitlines():
                    if line.strip():
                        parts = [p.strip() for p in line.split("|")]
                        workflow.append(
                            {
                                "key": parts[0],
                                "label": parts[1] if len(parts) > 1 else parts[0],
                                "category": parts[2] if len(parts) > 2 else "",
                            }
                        )
                services.settings_update(actor=request.user, product=self.product, workflow=workflow)
            elif action == "weights":
                weights = {}
                for line in request.POST.get("weights", "").splitlines():
                    if "=" in line:
                        k, v = line.rsplit("=", 1)
                        weights[k.strip()] = v.strip()
                services.settings_update(actor=request.user, product=self.product, segment_weights=weights)
        except ValidationError as e:
            return render(request, "backlog/settings.html", self.context(_errors(e), request.POST), status=400)
        messages.success(request, "Saved.")
        return redirect(request.path)


class BoardBase(BacklogBase):
    """The status board: columns per workflow status (docs/backlog.md, "Status board"). Shown for
    the whole backlog, or for one iteration's stories (`iteration_id` in the URL)."""

    write_role = None

    def iteration(self, iteration_id):
        if iteration_id is None:
            return None
        # The iteration lives in the delivery app; a page may compose its selector (see the layers contract).
        from delivery import selectors as delivery_selectors

        return delivery_selectors.iteration_for_product(product=self.product, iteration_id=iteration_id)

    def story_ids(self, iteration):
        if iteration is None:
            return None
        from delivery import selectors as delivery_selectors

        return delivery_selectors.iteration_stories(iteration=iteration).order_by().values("id")

    def cards(self, board_url: str) -> BoardCards:
        """The cards' printer (backlog/cards.py): they link ".../stories/<id>/" and post to
        ".../<id>/status/" (one reverse per page), one CSRF token for all, and return to `board_url`."""
        workflow = selectors.settings_of(self.product).workflow
        return BoardCards(statuses=[(s["key"], s["label"]) for s in workflow], can_edit=self.role >= Role.EDITOR,
                          stories_url=reverse_prefix("backlog:story", {"ws": self.product.workspace.slug,
                                                                       "product_id": self.product.id}, "story_id"),
                          csrf_token=get_token(self.request), board_url=board_url)


class BoardView(BoardBase):
    def get(self, request, ws, product_id, iteration_id=None):
        iteration = self.iteration(iteration_id)
        columns = selectors.story_board(product=self.product, story_ids=self.story_ids(iteration))
        cards = self.cards(request.get_full_path())
        for column in columns:
            column.cards = cards.html(column.stories)
        return render(request, "backlog/board.html", self.get_context_data(
            iteration=iteration, can_edit=cards.can_edit, columns=columns, total=sum(c.count for c in columns),
            more_url=reverse("backlog:board_more", kwargs={"ws": ws, "product_id": product_id})))


class BoardMoreView(BoardBase):
    """The next cards of one column (?status=&offset=[&iteration=]): `<li>` cards for the board's
    script to append; the X-Board-Has-More header says whether a further page exists."""

    def get(self, request, ws, product_id):
        workflow = [s["key"] for s in selectors.settings_of(self.product).workflow]
        status = request.GET.get("status") or workflow[0]  # no status named: the first column
        if status not in workflow:
            return HttpResponse(f"“{status}” is not a status of this product's workflow.", status=400)
        try:
            offset = max(0, int(request.GET.get("offset", 0)))
            iteration_id = _int_or_none(request.GET.get("iteration"))
        except (ValueError, ValidationError):
            return HttpResponse("offset and iteration are whole numbers.", status=400)
        if offset > BOARD_MAX_OFFSET:  # beyond any backlog, and beyond what SQL's OFFSET takes
            return HttpResponse(f"offset is at most {BOARD_MAX_OFFSET}.", status=400)
        iteration = self.iteration(iteration_id)
        stories, has_more = selectors.board_column_more(product=self.product, status=status, offset=offset,
                                                        story_ids=self.story_ids(iteration))
        # A card's form (no script) returns to the board it sits on, not to this partial.
        back = "iteration_board" if iteration else "board"
        cards = self.cards(reverse(f"backlog:{back}", kwargs={
            "ws": ws, "product_id": product_id, **({"iteration_id": iteration.id} if iteration else {})}))
        response = render(request, "backlog/_board_cards.html", {"cards": cards.html(stories)})
        response["X-Board-Has-More"] = "1" if has_more else "0"
        return response


class BoardStatusView(BacklogBase):
    """POST status (a workflow key) and version: change one story's status through the backlog's
    one status service (backlog.services.story_status_set). Answers JSON to the board's script
    (400 with the reason, 409 with the current state); a plain form post (no script) redirects
    back to the board with a message."""

    required_role = None

    def post(self, request, ws, product_id, story_id):
        story = self.story(story_id)
        wants_json = request.headers.get("X-Requested-With") == "fetch"
        back = safe_next(request, reverse("backlog:board", kwargs={"ws": ws, "product_id": product_id}))
        try:
            services.story_status_set(actor=request.user, story=story, status=request.POST.get("status", ""),
                                      version=version_read(request.POST.get("version")))
        except ValidationError as e:
            errors = _errors(e)
            detail = " ".join(m for ms in errors.values() for m in ms)
            if wants_json:
                return JsonResponse({"detail": detail, "errors": errors}, status=400)
            messages.error(request, detail)
            return redirect(back)
        except Conflict as e:
            detail = f"Someone else changed “{story.title}” in the meantime; the card stays where it was."
            if wants_json:
                return JsonResponse({"detail": detail, "current": e.current}, status=409)
            messages.error(request, detail)
            return redirect(back)
        label = {s["key"]: s["label"] for s in selectors.settings_of(self.product).workflow}[story.status]
        if wants_json:
            return JsonResponse({"id": story.id, "status": story.status, "status_label": label,
                                 "version": story.version})
        messages.success(request, f"“{story.title}” moved to {label}.")
        return redirect(back)
