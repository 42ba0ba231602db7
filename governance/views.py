"""Pages of the governance app: the risk and issue register with its heat map, one item with its
mediation log and history, the product's risk appetite."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role, User
from pmhub.utils import version_read
from pmhub.views import WorkspacePageMixin, form_conflict, form_errors_from
from roadmaps.pages import ProductPageMixin

from . import selectors, services
from .forms import (
    CapacityForm,
    DecisionForm,
    GovernanceSettingsForm,
    IssueNoteForm,
    LaunchItemForm,
    PortfolioDecisionForm,
    PortfolioEntryForm,
    PortfolioSettingsForm,
    RiskForm,
    StatementForm,
    TemplateForm,
)
from .models import ChecklistTemplate, ImpactStatement, LaunchItem, ProductGovernance, Risk


class RegisterView(ProductPageMixin, View):
    """The register: heat map (a cell links to the list filtered to it), filters in the URL, the list."""

    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        return self.render_register(request)

    def render_register(self, request, appetite_form=None, status=200):
        filters = selectors.register_filters(request.GET)
        appetite = selectors.appetite_of(product=self.product)
        items = list(selectors.register_for_product(product=self.product, filters=filters)[:500])
        grid = selectors.heat_map_for_product(product=self.product, appetite=appetite)
        base = {k: v for k, v in request.GET.items() if k in selectors.FILTERS and k not in ("likelihood", "impact")}
        for row in grid:
            for cell in row:
                cell["query"] = urlencode(base | {"likelihood": cell["likelihood"], "impact": cell["impact"]})
                cell["current"] = (filters["likelihood"], filters["impact"]) == (cell["likelihood"], cell["impact"])
        governance = ProductGovernance.objects.filter(product=self.product).first()
        return render(request, "governance/register.html", self.get_context_data(
            items=items, grid=grid, appetite=appetite, filters=filters,
            filtered=any(filters.values()),
            owners=User.objects.filter(memberships__workspace=self.workspace).order_by("email"),
            kinds=Risk.Kind.choices, statuses=Risk.Status.choices,
            appetite_form=appetite_form or GovernanceSettingsForm(initial={
                "risk_appetite": appetite, "version": governance.version if governance else "",
                "require_impact_statement": bool(governance and governance.require_impact_statement)})),
            status=status)


class AppetiteView(RegisterView):
    """Saves the appetite and the statement rule; a refusal answers the register with the form as
    typed and the error at its field."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN
    http_method_names = ["post"]

    def post(self, request, ws, product_id):
        form = GovernanceSettingsForm(request.POST)
        url = reverse("governance:risks", kwargs={"ws": ws, "product_id": self.product.id})
        if form.is_valid():
            try:
                with transaction.atomic():  # both settings or neither
                    row = services.appetite_set(user=request.user, product=self.product,
                                                appetite=form.cleaned_data["risk_appetite"],
                                                version=version_read(request.POST.get("version")))
                    if row.require_impact_statement != form.cleaned_data["require_impact_statement"]:
                        # The row is claimed and locked by appetite_set in this transaction.
                        services.statement_requirement_set(user=request.user, product=self.product,
                                                           required=form.cleaned_data["require_impact_statement"],
                                                           version=row.version)
            except Conflict:
                messages.error(request, "Someone else changed the appetite since you opened the page; it is shown "
                                        "again below.")
                return redirect(url)
            except ValidationError as e:
                form.add_error("risk_appetite", " ".join(e.messages))
                return self.render_register(request, appetite_form=form, status=400)
            messages.success(request, "Governance settings saved.")
            return redirect(url)
        return self.render_register(request, appetite_form=form, status=400)


class _RiskPageMixin(ProductPageMixin):
    def risk(self, risk_id):
        return selectors.risk_for_product(product=self.product, risk_id=risk_id)


class RiskDetailView(_RiskPageMixin, View):
    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, risk, note_form=None, status=200):
        return render(request, "governance/risk_detail.html", self.get_context_data(
            risk=risk, notes=risk.notes.select_related("author"),
            initiatives=risk.initiatives.all(), releases=risk.releases.all(), epics=risk.epics.all(),
            kpis=risk.kpis.all(), history=selectors.risk_history(risk=risk),
            note_form=note_form or IssueNoteForm()), status=status)

    def get(self, request, ws, product_id, risk_id):
        return self._render(request, self.risk(risk_id))


class IssueNoteView(_RiskPageMixin, View):
    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, risk_id):
        risk = self.risk(risk_id)
        form = IssueNoteForm(request.POST)
        if form.is_valid():
            try:
                services.issue_note_add(user=request.user, risk=risk, text=form.cleaned_data["text"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Decision recorded.")
                return redirect("governance:risk", ws=ws, product_id=self.product.id, risk_id=risk.id)
        return RiskDetailView(request=request, product=self.product, workspace=self.workspace,
                              role=self.role)._render(request, risk, note_form=form, status=400)


class RiskFormView(_RiskPageMixin, View):
    """Log (no risk_id) or edit a register item; the edit form carries the version read."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _form(self, risk, data=None):
        if risk is None:
            initial = {k: v for k, v in (("kind", self.request.GET.get("kind")),) if v in Risk.Kind.values}
            return RiskForm(data, product=self.product, initial=initial)
        return RiskForm(data, product=self.product, instance=risk, initial={"version": risk.version})

    def _render(self, request, form, risk, status=200):
        return render(request, "governance/risk_form.html", self.get_context_data(form=form, risk=risk),
                      status=status)

    def get(self, request, ws, product_id, risk_id=None):
        risk = self.risk(risk_id) if risk_id else None
        return self._render(request, self._form(risk), risk)

    def post(self, request, ws, product_id, risk_id=None):
        risk = self.risk(risk_id) if risk_id else None
        form = self._form(risk, request.POST)
        if form.is_valid():
            try:
                if risk is None:
                    risk = services.risk_create(user=request.user, product=self.product, data=form.service_data())
                else:
                    services.risk_update(user=request.user, risk=Risk.objects.get(pk=risk.pk),
                                         data=form.service_data(), version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "risk")
                return self._render(request, form, risk, status=409)
            else:
                messages.success(request, f"“{risk.title}” saved.")
                return redirect("governance:risk", ws=ws, product_id=self.product.id, risk_id=risk.id)
        return self._render(request, form, risk, status=400)


class RiskDeleteView(_RiskPageMixin, View):
    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, risk_id):
        risk = self.risk(risk_id)
        services.risk_delete(user=request.user, risk=risk)
        messages.success(request, f"“{risk.title}” deleted.")
        return redirect("governance:risks", ws=ws, product_id=self.product.id)


class StatementView(ProductPageMixin, View):
    """An initiative's business impact statement: the current revision, every revision and
    decision, the form for the next revision, submit, and approve/reject for its approvers.
    ChangeRequestStatementView is the same page for a change request of a release."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR
    subject_field = "initiative"

    def _subject(self, kwargs):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.product.initiatives.all(), pk=kwargs["initiative_id"])

    def _url(self, subject):
        return reverse("governance:statement", kwargs={"ws": self.workspace.slug, "product_id": self.product.id,
                                                       "initiative_id": subject.id})

    def _render(self, request, subject, form=None, decision_form=None, status=200, error=None):
        statement = selectors.statement_of(**{self.subject_field: subject})
        current = statement.revisions.all()[0] if statement else None
        if form is None:
            initial = {"approver_role": statement.approver_role if statement else 30,
                       "approvers": [u.id for u in statement.approvers.all()] if statement else [],
                       "version": statement.version if statement else ""}
            if current is not None:
                initial |= {f: getattr(current, f) for f in services.REVISION_FIELDS}
            form = StatementForm(initial=initial, workspace=self.workspace)
        can_decide = bool(statement and statement.status == ImpactStatement.Status.AWAITING
                          and services.statement_can_decide(user=request.user, statement=statement))
        return render(request, "governance/statement.html", self.get_context_data(
            **{self.subject_field: subject}, subject_kind=self.subject_field,
            statement=statement, current=current, form=form, error=error,
            decision_form=decision_form or DecisionForm(initial={"version": statement.version if statement else ""}),
            can_decide=can_decide), status=status)

    def get(self, request, ws, product_id, **kwargs):
        return self._render(request, self._subject(kwargs))

    def post(self, request, ws, product_id, **kwargs):
        subject = self._subject(kwargs)
        statement = ImpactStatement.objects.filter(**{self.subject_field: subject}).first()
        action = request.POST.get("action")
        version = version_read(request.POST.get("version"))
        url = self._url(subject)
        if action in ("approved", "rejected"):
            form = DecisionForm(_with(request.POST, decision=action))
            if not form.is_valid() or statement is None:
                return self._render(request, subject, decision_form=form, status=400,
                                    error="Nothing awaits a decision." if statement is None else None)
            try:
                services.statement_decide(user=request.user, statement=statement, decision=action,
                                          comment=form.cleaned_data["comment"], version=version)
            except ValidationError as e:
                form_errors_from(e, form)
                return self._render(request, subject, decision_form=form, status=400)
            except Conflict:
                form_conflict(form, "statement")
                return self._render(request, subject, decision_form=form, status=409)
            messages.success(request, "Approved." if action == "approved" else "Rejected; the requester is told.")
            return redirect(url)
        if action == "submit":
            if statement is None:
                return self._render(request, subject, status=400, error="Write the statement first.")
            try:
                services.statement_submit(user=request.user, statement=statement, version=version)
            except ValidationError as e:
                return self._render(request, subject, status=400, error=" ".join(e.messages))
            except Conflict:
                return self._render(request, subject, status=409, error="Someone else changed this statement "
                                    "since you opened the page. Reload it, then submit again.")
            messages.success(request, "Submitted for approval; the approvers are told.")
            return redirect(url)
        form = StatementForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                services.statement_save(user=request.user, product=self.product, data=form.service_data(),
                                        **({self.subject_field: subject} if statement is None else {}),
                                        statement=statement, version=version)
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "statement")
                return self._render(request, subject, form=form, status=409)
            else:
                messages.success(request, "Statement saved as a new revision.")
                return redirect(url)
        return self._render(request, subject, form=form, status=400)


class ChangeRequestStatementView(StatementView):
    """The business impact statement of a change request (linked from the release page's panel)."""

    subject_field = "change_request"

    def _subject(self, kwargs):
        from django.shortcuts import get_object_or_404

        from delivery.models import ChangeRequest

        return get_object_or_404(ChangeRequest.objects.select_related("story", "release").filter(
            release__product=self.product, release_id=kwargs["release_id"]), pk=kwargs["cr_id"])

    def _url(self, subject):
        return reverse("governance:cr_statement", kwargs={"ws": self.workspace.slug, "product_id": self.product.id,
                                                          "release_id": subject.release_id, "cr_id": subject.id})


def _with(data, **values):
    """A copy of a QueryDict with some values set."""
    copy = data.copy()
    for key, value in values.items():
        copy[key] = value
    return copy


# --- launch readiness -----------------------------------------------------------------------------------
class LaunchChecklistView(ProductPageMixin, View):
    """A release's launch checklist: readiness, items by category (tick, owner, due date), add an
    item, apply a workspace template, and the recorded ship overrides."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _release(self, release_id):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(self.product.releases.all(), pk=release_id)

    def _render(self, request, release, form=None, status=200, error=None):
        items = list(selectors.launch_items_of(release=release))
        readiness = selectors.readiness_for_releases(release_ids=[release.id]).get(release.id)
        groups = {}
        for item in items:
            groups.setdefault(item.get_category_display(), []).append(item)
        return render(request, "governance/launch.html", self.get_context_data(
            release=release, groups=list(groups.items()), readiness=readiness, error=error,
            form=form or LaunchItemForm(workspace=self.workspace, initial={"required": True}),
            templates=ChecklistTemplate.objects.filter(workspace=self.workspace),
            overrides=release.ship_overrides.select_related("actor")), status=status)

    def get(self, request, ws, product_id, release_id):
        return self._render(request, self._release(release_id))

    def post(self, request, ws, product_id, release_id):
        release = self._release(release_id)
        url = reverse("governance:launch", kwargs={"ws": ws, "product_id": self.product.id, "release_id": release.id})
        if request.POST.get("action") == "apply":
            template = ChecklistTemplate.objects.filter(workspace=self.workspace,
                                                        pk=_int(request.POST.get("template"))).first()
            if template is None:
                return self._render(request, release, status=400, error="Choose a template.")
            added = services.checklist_apply_template(user=request.user, release=release, template=template)
            messages.success(request, f"{added} item{'s' if added != 1 else ''} added from “{template.name}”.")
            return redirect(url)
        form = LaunchItemForm(request.POST, workspace=self.workspace)
        if form.is_valid():
            try:
                services.launch_item_create(user=request.user, release=release, data=form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Item added.")
                return redirect(url)
        return self._render(request, release, form=form, status=400)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class LaunchItemView(ProductPageMixin, View):
    """POST: tick or reopen an item (`done`), or delete it (`action=delete`); back to the checklist."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def post(self, request, ws, product_id, release_id, item_id):
        from django.shortcuts import get_object_or_404

        item = get_object_or_404(LaunchItem.objects.select_related("release__product"), pk=item_id,
                                 release_id=release_id, release__product=self.product)
        url = reverse("governance:launch", kwargs={"ws": ws, "product_id": self.product.id, "release_id": release_id})
        if request.POST.get("action") == "delete":
            services.launch_item_delete(user=request.user, item=item)
            messages.success(request, f"“{item.title}” removed.")
            return redirect(url)
        try:
            services.launch_item_update(user=request.user, item=item, data={"done": request.POST.get("done") == "1"},
                                        version=version_read(request.POST.get("version")))
        except Conflict:
            messages.error(request, "Someone else changed this item since you opened the page; it is shown again.")
        return redirect(url)


class TemplatesView(WorkspacePageMixin, View):
    """The workspace's launch checklist templates (admins write them)."""

    required_role = Role.VIEWER
    write_role = Role.ADMIN

    def _render(self, request, form=None, status=200):
        templates = ChecklistTemplate.objects.filter(workspace=self.workspace).prefetch_related("items")
        return render(request, "governance/templates.html", self.get_context_data(
            templates=templates, form=form or TemplateForm()), status=status)

    def get(self, request, ws):
        return self._render(request)

    def post(self, request, ws):
        form = TemplateForm(request.POST)
        if form.is_valid():
            try:
                services.template_create(user=request.user, workspace=self.workspace, name=form.cleaned_data["name"],
                                         items=form.cleaned_data["items"])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Template saved.")
                return redirect("governance:templates", ws=ws)
        return self._render(request, form=form, status=400)


class TemplateDeleteView(WorkspacePageMixin, View):
    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def post(self, request, ws, template_id):
        from django.shortcuts import get_object_or_404

        template = get_object_or_404(ChecklistTemplate, pk=template_id, workspace=self.workspace)
        services.template_delete(user=request.user, template=template)
        messages.success(request, f"“{template.name}” deleted.")
        return redirect("governance:templates", ws=ws)


# --- portfolio ---------------------------------------------------------------------------------------
class PortfolioView(WorkspacePageMixin, View):
    """Every product's open initiatives ranked by the portfolio's one scoring model, demand against
    capacity per quarter, and the decisions. POST (admin): the model and weights, or a quarter's capacity."""

    required_role = Role.VIEWER
    write_role = Role.ADMIN

    def _render(self, request, settings_form=None, capacity_form=None, status=200):
        data = selectors.portfolio_ranking(workspace=self.workspace)
        s = data["settings"]
        return render(request, "governance/portfolio.html", self.get_context_data(
            ranking=data["rows"], quarters=data["quarters"], owners=data["owners"], portfolio=s,
            settings_form=settings_form or PortfolioSettingsForm(initial={
                "model": s.model, "weight_value": s.weight_value, "weight_fit": s.weight_fit,
                "weight_risk": s.weight_risk, "version": s.version if s.pk else ""}),
            capacity_form=capacity_form or CapacityForm()), status=status)

    def get(self, request, ws):
        return self._render(request)

    def post(self, request, ws):
        if request.POST.get("action") == "capacity":
            form = CapacityForm(request.POST)
            if form.is_valid():
                services.portfolio_capacity_set(user=request.user, workspace=self.workspace,
                                                quarter=form.cleaned_data["quarter"],
                                                capacity=form.cleaned_data["capacity"])
                messages.success(request, "Capacity saved.")
                return redirect("governance:portfolio", ws=ws)
            return self._render(request, capacity_form=form, status=400)
        form = PortfolioSettingsForm(request.POST)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            try:
                services.portfolio_settings_set(user=request.user, workspace=self.workspace, data=data,
                                                version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "portfolio")
                return self._render(request, settings_form=form, status=409)
            else:
                messages.success(request, "Scoring model saved.")
                return redirect("governance:portfolio", ws=ws)
        return self._render(request, settings_form=form, status=400)


class PortfolioEntryView(WorkspacePageMixin, View):
    """One initiative in the portfolio: its inputs (editors) and the decision (admins)."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _initiative(self, initiative_id):
        from django.shortcuts import get_object_or_404

        from roadmaps.models import Initiative

        return get_object_or_404(Initiative.objects.select_related("product", "portfolio_entry"), pk=initiative_id,
                                 product__workspace=self.workspace, product__deleted_at__isnull=True)

    def _render(self, request, initiative, entry_form=None, decision_form=None, status=200):
        entry = getattr(initiative, "portfolio_entry", None)
        version = entry.version if entry else ""
        initial = {"version": version} | ({f: getattr(entry, f) for f in services.ENTRY_FIELDS} if entry else {})
        return render(request, "governance/portfolio_entry.html", self.get_context_data(
            initiative=initiative, entry=entry,
            entry_form=entry_form or PortfolioEntryForm(initial=initial),
            decision_form=decision_form or PortfolioDecisionForm(initial={
                "version": version, "decision": entry.decision if entry and entry.decision else "fund"})),
            status=status)

    def get(self, request, ws, initiative_id):
        return self._render(request, self._initiative(initiative_id))

    def post(self, request, ws, initiative_id):
        initiative = self._initiative(initiative_id)
        version = version_read(request.POST.get("version"))
        if request.POST.get("action") == "decide":
            if self.role < Role.ADMIN:
                from django.core.exceptions import PermissionDenied

                raise PermissionDenied("Only admins record portfolio decisions.")
            form = PortfolioDecisionForm(request.POST)
            if form.is_valid():
                try:
                    services.portfolio_decide(user=request.user, initiative=initiative,
                                              decision=form.cleaned_data["decision"],
                                              reason=form.cleaned_data["reason"], version=version)
                except ValidationError as e:
                    form_errors_from(e, form)
                except Conflict:
                    form_conflict(form, "portfolio entry")
                    return self._render(request, initiative, decision_form=form, status=409)
                else:
                    messages.success(request, "Decision recorded.")
                    return redirect("governance:portfolio_entry", ws=ws, initiative_id=initiative.id)
            return self._render(request, initiative, decision_form=form, status=400)
        form = PortfolioEntryForm(request.POST)
        if form.is_valid():
            try:
                services.portfolio_entry_save(user=request.user, initiative=initiative, version=version,
                                              data={k: v for k, v in form.cleaned_data.items() if k != "version"})
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "portfolio entry")
                return self._render(request, initiative, entry_form=form, status=409)
            else:
                messages.success(request, "Inputs saved.")
                return redirect("governance:portfolio_entry", ws=ws, initiative_id=initiative.id)
        return self._render(request, initiative, entry_form=form, status=400)


# --- product lifecycle ---------------------------------------------------------------------------------
class LifecycleView(ProductPageMixin, View):
    """The product's lifecycle stage, its history, PMHub's open proposal with its evidence;
    admins set the stage or accept/dismiss the proposal."""

    required_role = Role.VIEWER
    write_role = Role.ADMIN

    def _render(self, request, status=200, error=None):
        from .lifecycle import STAGES
        from .models import StageProposal

        row = ProductGovernance.objects.filter(product=self.product).first()
        return render(request, "governance/lifecycle.html", self.get_context_data(
            stage=row.get_stage_display() if row else "Growth", stage_code=row.stage if row else "growth",
            periods=row.decline_periods if row else 3, version=row.version if row else "",
            stages=[(s, s.capitalize()) for s in STAGES], error=error,
            history=self.product.stage_changes.select_related("actor")[:50],
            proposal=StageProposal.objects.filter(product=self.product, status="open").first()), status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        from .models import StageProposal

        action = request.POST.get("action")
        try:
            if action in ("accept", "dismiss"):
                proposal = StageProposal.objects.filter(product=self.product, pk=_int(request.POST.get("proposal"))
                                                        ).first()
                if proposal is None:
                    return self._render(request, status=400, error="That proposal is gone.")
                services.proposal_decide(user=request.user, proposal=proposal, accept=action == "accept")
            else:
                services.stage_set(user=request.user, product=self.product, stage=request.POST.get("stage", ""),
                                   reason=request.POST.get("reason", "")[:500],
                                   version=version_read(request.POST.get("version")))
        except ValidationError as e:
            return self._render(request, status=400, error=" ".join(e.messages))
        except Conflict:
            return self._render(request, status=409, error="Someone else changed the stage since you opened the "
                                                           "page; it is shown again.")
        messages.success(request, "Lifecycle saved.")
        return redirect("governance:lifecycle", ws=ws, product_id=self.product.id)
