"""Discovery pages under /w/<ws>/products/<product_id>/discovery/: companies (with their people)
and the insights inbox (with highlights)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views import View

from pmhub.errors import Conflict
from pmhub.models import Role
from pmhub.utils import version_read
from pmhub.views import form_conflict, form_errors_from
from roadmaps.pages import ProductPageMixin

from . import selectors, services
from .forms import (
    CompanyForm,
    CsvImportForm,
    FeedbackForm,
    HighlightForm,
    IdeaForm,
    InsightEditForm,
    InsightForm,
    IntakeForm,
    PersonForm,
    PortalForm,
    PortalLogoForm,
    ReleaseNoteForm,
)
from .models import CsvImport, Highlight, Idea, Insight, Portal, ReleaseNote


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CompaniesView(ProductPageMixin, View):
    """The product's companies: who they are, what they pay, how many people and insights."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        q = (request.GET.get("q") or "")[:100]
        segment = _int(request.GET.get("segment"))
        page = Paginator(selectors.company_list(product=self.product, q=q, segment_id=segment), 50).get_page(
            request.GET.get("page"))
        context = self.get_context_data(page=page, q=q, segment=segment, segments=self.product.segments.all(),
                                        form=form or CompanyForm(product=self.product), nav_section="discovery")
        return render(request, "discovery/companies.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = CompanyForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                company = services.company_create(user=request.user, product=self.product, data=form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Company “{company.name}” added.")
                return redirect("discovery:company", ws=ws, product_id=product_id, company_id=company.id)
        return self._render(request, form=form, status=400)


class CompanyView(ProductPageMixin, View):
    """One company: its fields (editable), its people (add one) and its insights."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _company(self, company_id):
        return selectors.company_for_user(user=self.request.user, company_id=company_id, product=self.product)

    def _render(self, request, company, form=None, person_form=None, status=200):
        form = form or CompanyForm(product=self.product, initial=CompanyForm.initial_for(company))
        context = self.get_context_data(
            company=company, object=company, form=form, person_form=person_form or PersonForm(),
            people=company.people.order_by("name", "email"),
            insights=company.insights.select_related("person").order_by("-created_at", "-id")[:20],
            figures=selectors.company_figures(company=company), nav_section="discovery")
        return render(request, "discovery/company.html", context, status=status)

    def get(self, request, ws, product_id, company_id):
        return self._render(request, self._company(company_id))

    def post(self, request, ws, product_id, company_id):
        company = self._company(company_id)
        if request.POST.get("action") == "person":
            person_form = PersonForm(request.POST)
            if person_form.is_valid():
                try:
                    services.person_create(user=request.user, product=self.product,
                                           data=person_form.cleaned_data | {"company": company})
                except ValidationError as e:
                    form_errors_from(e, person_form)
                else:
                    messages.success(request, "Person added.")
                    return redirect("discovery:company", ws=ws, product_id=product_id, company_id=company.id)
            return self._render(request, company, person_form=person_form, status=400)
        form = CompanyForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                services.company_update(user=request.user, company=company, data=form.cleaned_data,
                                        version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "company")
                return self._render(request, self._company(company_id), form=form, status=409)
            else:
                messages.success(request, "Company saved.")
                return redirect("discovery:company", ws=ws, product_id=product_id, company_id=company.id)
        return self._render(request, company, form=form, status=400)


class InboxView(ProductPageMixin, View):
    """The product's insights inbox: new / reviewed / archived, newest first; file one by hand."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        state = request.GET.get("state") if request.GET.get("state") in Insight.State.values else Insight.State.NEW
        page = Paginator(selectors.inbox(product=self.product, state=state), selectors.INBOX_PAGE).get_page(
            request.GET.get("page"))
        form = form or InsightForm(product=self.product)
        form.fields["text"].widget.attrs.update({
            "hx-get": reverse("discovery:similar", kwargs={"ws": self.workspace.slug, "product_id": self.product.id})
            + "?kind=insight", "hx-trigger": "input changed delay:400ms", "hx-target": "#similar",
            "hx-swap": "innerHTML", "aria-describedby": "similar"})
        context = self.get_context_data(page=page, state=state, states=Insight.State.choices,
                                        counts=selectors.inbox_counts(product=self.product),
                                        form=form, nav_section="discovery")
        return render(request, "discovery/inbox.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = InsightForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                insight = services.insight_create(user=request.user, product=self.product, data=form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Insight filed.")
                return redirect("discovery:insight", ws=ws, product_id=product_id, insight_id=insight.id)
        return self._render(request, form=form, status=400)


class FeedbackView(ProductPageMixin, View):
    """Backlog › Feedback: record what a customer said and link it to stories and epics in one step.
    It lands in the insights inbox (services.feedback_file, decision 1613); the list shows the
    product's latest insights highlighted for its work, whatever their channel."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        context = self.get_context_data(rows=selectors.feedback_rows(product=self.product),
                                        form=form or FeedbackForm(product=self.product))
        return render(request, "discovery/feedback.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = FeedbackForm(request.POST, product=self.product)
        if form.is_valid():
            data = form.cleaned_data
            try:
                insight = services.feedback_file(
                    user=request.user, product=self.product, customer=data["customer"], quote=data["quote"],
                    source=data["source"], segment=data["segment"], importance=data["importance"],
                    story_ids=[s.id for s in data["stories"]], epic_ids=[e.id for e in data["epics"]])
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, f"Feedback recorded in the insights inbox ({insight.company.name}).")
                return redirect(request.path)
        return self._render(request, form=form, status=400)


class InsightView(ProductPageMixin, View):
    """One insight: state, owner, text; highlights linking passages to epics and stories."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _insight(self, insight_id):
        return selectors.insight_for_user(user=self.request.user, insight_id=insight_id, product=self.product)

    def _render(self, request, insight, form=None, highlight_form=None, status=200):
        form = form or InsightEditForm(product=self.product, initial=InsightEditForm.initial_for(insight))
        context = self.get_context_data(
            insight=insight, object=insight, form=form,
            highlight_form=highlight_form or HighlightForm(product=self.product),
            highlights=insight.highlights.select_related("epic", "story", "idea"), nav_section="discovery")
        return render(request, "discovery/insight.html", context, status=status)

    def get(self, request, ws, product_id, insight_id):
        return self._render(request, self._insight(insight_id))

    def post(self, request, ws, product_id, insight_id):
        insight = self._insight(insight_id)
        action = request.POST.get("action")
        if action == "highlight":
            hform = HighlightForm(request.POST, product=self.product)
            if hform.is_valid():
                try:
                    services.highlight_create(user=request.user, insight=insight, **hform.cleaned_data)
                except ValidationError as e:
                    form_errors_from(e, hform)
                else:
                    messages.success(request, "Highlight added.")
                    return redirect("discovery:insight", ws=ws, product_id=product_id, insight_id=insight.id)
            return self._render(request, insight, highlight_form=hform, status=400)
        if action == "unhighlight":
            highlight = get_object_or_404(Highlight, pk=_int(request.POST.get("highlight")), insight=insight)
            services.highlight_delete(user=request.user, highlight=highlight)
            messages.success(request, "Highlight removed.")
            return redirect("discovery:insight", ws=ws, product_id=product_id, insight_id=insight.id)
        form = InsightEditForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                services.insight_update(user=request.user, insight=insight, data=form.cleaned_data,
                                        version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "insight")
                return self._render(request, self._insight(insight_id), form=form, status=409)
            else:
                messages.success(request, "Insight saved.")
                return redirect("discovery:insight", ws=ws, product_id=product_id, insight_id=insight.id)
        return self._render(request, insight, form=form, status=400)


class ImportsView(ProductPageMixin, View):
    """Upload a CSV of companies or insights; the worker reads it into a preview."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        context = self.get_context_data(form=form or CsvImportForm(),
                                        imports=CsvImport.objects.filter(product=self.product)
                                        .select_related("created_by").defer("raw", "rows")[:20],
                                        nav_section="discovery")
        return render(request, "discovery/imports.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = CsvImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.csv_import_upload(user=request.user, product=self.product,
                                                 kind=form.cleaned_data["kind"], filename=upload.name,
                                                 data=upload.read(services.MAX_IMPORT_BYTES + 1))
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "File received: the worker reads it and shows a preview here.")
                return redirect("discovery:import", ws=ws, product_id=product_id, import_id=job.id)
        return self._render(request, form=form, status=400)


def _import_of(view, import_id):
    return get_object_or_404(CsvImport.objects.defer("raw"), pk=import_id, product=view.product)


class ImportView(ProductPageMixin, View):
    """The preview of a CSV import: valid rows, lines with errors; confirm to import."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR
    PREVIEW = 50

    def _render(self, request, job, status=200, error=""):
        errors = sorted(((int(line), fields) for line, fields in job.errors.items()), key=lambda e: e[0])
        context = self.get_context_data(job=job, preview=job.rows[:self.PREVIEW], row_count=len(job.rows),
                                        errors=errors[:self.PREVIEW], error_count=len(errors), confirm_error=error,
                                        nav_section="discovery")
        return render(request, "discovery/import.html", context, status=status)

    def get(self, request, ws, product_id, import_id):
        return self._render(request, _import_of(self, import_id))

    def post(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        try:
            services.csv_import_confirm(user=request.user, csv_import=job)
        except ValidationError as e:
            return self._render(request, job, status=400, error=" ".join(e.messages))
        messages.success(request, "Importing: the worker writes the rows now.")
        return redirect("discovery:import", ws=ws, product_id=product_id, import_id=job.id)


class ImportReadingView(ProductPageMixin, View):
    """htmx partial polled every second while the worker reads or writes the file; then the page
    reloads itself (HX-Refresh)."""

    required_role = Role.EDITOR

    def get(self, request, ws, product_id, import_id):
        job = _import_of(self, import_id)
        response = render(request, "discovery/_import_reading.html", {"job": job, "product": self.product,
                                                                     "workspace": self.workspace})
        if job.status not in (CsvImport.Status.PARSING, CsvImport.Status.APPLYING):
            response["HX-Refresh"] = "true"
        return response


class IntakeView(ProductPageMixin, View):
    """Admins see the product's feedback e-mail address and form key, open the embeddable form and
    list the sites allowed to show it, and renew both secrets."""

    required_role = Role.ADMIN
    write_role = Role.ADMIN

    def _render(self, request, form=None, status=200):
        intake = services.intake_of(self.product)
        form = form or IntakeForm(initial={"form_enabled": intake.form_enabled, "form_origins": intake.form_origins})
        script = request.build_absolute_uri(static("discovery/feedback.js"))
        context = self.get_context_data(intake=intake, object=intake, form=form, script_url=script,
                                        nav_section="discovery")
        return render(request, "discovery/intake.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        if request.POST.get("action") == "rotate":
            services.intake_rotate_keys(user=request.user, product=self.product)
            messages.success(request, "New address and key: update your forwarding and embedded forms.")
            return redirect("discovery:intake", ws=ws, product_id=product_id)
        form = IntakeForm(request.POST)
        if form.is_valid():
            try:
                services.intake_update(user=request.user, product=self.product, data=form.cleaned_data,
                                       version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "intake settings")
                return self._render(request, form=form, status=409)
            else:
                messages.success(request, "Feedback form saved.")
                return redirect("discovery:intake", ws=ws, product_id=product_id)
        return self._render(request, form=form, status=400)


class IdeasView(ProductPageMixin, View):
    """The product's ideas (portal submissions and the team's own), most demanded first."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _render(self, request, form=None, status=200):
        show = request.GET.get("show", "all")
        segment = _int(request.GET.get("segment"))
        ideas = selectors.ideas_by_demand(product=self.product, show=show, segment_id=segment)
        page = Paginator(ideas, 50).get_page(request.GET.get("page"))
        form = form or IdeaForm(product=self.product)
        # Duplicates while typing, as in the inbox and on the portal: the product's ideas like the title.
        form.fields["title"].widget.attrs.update({
            "hx-get": reverse("discovery:similar", kwargs={"ws": self.workspace.slug, "product_id": self.product.id})
            + "?kind=idea", "hx-trigger": "input changed delay:400ms", "hx-target": "#similar",
            "hx-swap": "innerHTML", "aria-describedby": "similar"})
        context = self.get_context_data(page=page, show=show, segment=segment, segments=self.product.segments.all(),
                                        form=form,
                                        portal=Portal.objects.filter(product=self.product).first(),
                                        nav_section="discovery")
        return render(request, "discovery/ideas.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def post(self, request, ws, product_id):
        form = IdeaForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                idea = services.idea_create(user=request.user, product=self.product, data=form.cleaned_data)
            except ValidationError as e:
                form_errors_from(e, form)
            else:
                messages.success(request, "Idea added.")
                return redirect("discovery:idea", ws=ws, product_id=product_id, idea_id=idea.id)
        return self._render(request, form=form, status=400)


class IdeaView(ProductPageMixin, View):
    """Curate one idea: publish, public status, linked work; merge a duplicate; answer on the portal."""

    required_role = Role.VIEWER
    write_role = Role.EDITOR

    def _idea(self, idea_id):
        return get_object_or_404(Idea.objects.select_related("initiative", "merged_into", "author"),
                                 pk=idea_id, product=self.product)

    def _render(self, request, idea, form=None, status=200, error="", comment_error="", comment_body=""):
        form = form or IdeaForm(product=self.product, initial=IdeaForm.initial_for(idea))
        context = self.get_context_data(
            idea=idea, object=idea, form=form, error=error, comment_error=comment_error, comment_body=comment_body,
            askers=selectors.idea_askers(idea=idea),
            adoption=selectors.askers_adoption(idea=idea),
            comments=idea.comments.select_related("visitor", "user"),
            merge_choices=Idea.objects.filter(product=self.product, merged_into__isnull=True).exclude(pk=idea.pk)
            .order_by("title")[:300], nav_section="discovery")
        return render(request, "discovery/idea.html", context, status=status)

    def get(self, request, ws, product_id, idea_id):
        return self._render(request, self._idea(idea_id))

    def post(self, request, ws, product_id, idea_id):
        idea = self._idea(idea_id)
        action = request.POST.get("action")
        try:
            if action == "merge":
                into = get_object_or_404(Idea, pk=_int(request.POST.get("into")), product=self.product)
                services.idea_merge(user=request.user, idea=idea, into=into)
                messages.success(request, f"Merged into “{into.title}”.")
                return redirect("discovery:idea", ws=ws, product_id=product_id, idea_id=into.id)
            if action == "comment":
                body = request.POST.get("body", "")
                try:
                    services.idea_comment(idea=idea, user=request.user, body=body)
                except ValidationError as e:
                    return self._render(request, idea, status=400, comment_error=" ".join(e.messages),
                                        comment_body=body)
                messages.success(request, "Answer posted on the portal.")
                return redirect("discovery:idea", ws=ws, product_id=product_id, idea_id=idea.id)
        except ValidationError as e:
            return self._render(request, idea, status=400, error=" ".join(e.messages))
        form = IdeaForm(request.POST, product=self.product)
        if form.is_valid():
            try:
                services.idea_update(user=request.user, idea=idea, data=form.cleaned_data,
                                     version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "idea")
                return self._render(request, self._idea(idea_id), form=form, status=409)
            else:
                messages.success(request, "Idea saved.")
                return redirect("discovery:idea", ws=ws, product_id=product_id, idea_id=idea.id)
        return self._render(request, idea, form=form, status=400)


class PortalSettingsView(ProductPageMixin, View):
    """Admins open the product's public portal; editors publish release notes on it."""

    required_role = Role.EDITOR
    write_role = Role.EDITOR

    def _render(self, request, form=None, note_form=None, status=200, logo_form=None):
        portal = Portal.objects.filter(product=self.product).defer("logo").first()
        initial = ({"enabled": portal.enabled, "name": portal.name, "slug": portal.slug, "intro": portal.intro,
                    "colour": portal.colour} if portal else
                   {"name": self.product.name, "slug": f"p{self.product.id}", "colour": "#1f6feb"})
        context = self.get_context_data(
            portal=portal, object=portal, form=form or PortalForm(initial=initial),
            note_form=note_form or ReleaseNoteForm(product=self.product), logo_form=logo_form or PortalLogoForm(),
            notes=ReleaseNote.objects.filter(portal=portal)[:20] if portal else [], nav_section="discovery")
        return render(request, "discovery/portal_settings.html", context, status=status)

    def get(self, request, ws, product_id):
        return self._render(request)

    def _logo(self, request, ws, product_id):
        portal = get_object_or_404(Portal.objects.defer("logo"), product=self.product)
        if request.POST.get("action") == "logo_remove":
            services.portal_logo_set(user=request.user, portal=portal, data=None)
            messages.success(request, "Logo removed.")
            return redirect("discovery:portal", ws=ws, product_id=product_id)
        logo_form = PortalLogoForm(request.POST, request.FILES)
        if logo_form.is_valid():
            try:
                services.portal_logo_set(user=request.user, portal=portal,
                                         data=logo_form.cleaned_data["logo"].read(services.MAX_LOGO_BYTES + 1))
            except ValidationError as e:
                form_errors_from(e, logo_form)
            else:
                messages.success(request, "Logo saved.")
                return redirect("discovery:portal", ws=ws, product_id=product_id)
        return self._render(request, logo_form=logo_form, status=400)

    def post(self, request, ws, product_id):
        if request.POST.get("action") in ("logo", "logo_remove"):
            return self._logo(request, ws, product_id)
        if request.POST.get("action") == "note":
            note_form = ReleaseNoteForm(request.POST, product=self.product)
            portal = Portal.objects.filter(product=self.product).first()
            if note_form.is_valid() and portal is not None:
                try:
                    services.release_note_create(user=request.user, portal=portal, **note_form.cleaned_data)
                except ValidationError as e:
                    form_errors_from(e, note_form)
                else:
                    messages.success(request, "Release notes published.")
                    return redirect("discovery:portal", ws=ws, product_id=product_id)
            return self._render(request, note_form=note_form, status=400)
        form = PortalForm(request.POST)
        if form.is_valid():
            try:
                services.portal_save(user=request.user, product=self.product, data=form.cleaned_data,
                                     version=version_read(request.POST.get("version")))
            except ValidationError as e:
                form_errors_from(e, form)
            except Conflict:
                form_conflict(form, "portal")
                return self._render(request, form=form, status=409)
            else:
                messages.success(request, "Portal saved.")
                return redirect("discovery:portal", ws=ws, product_id=product_id)
        return self._render(request, form=form, status=400)


class SimilarView(ProductPageMixin, View):
    """htmx partial: ideas (or insights) of the product like what is being typed, best first."""

    required_role = Role.VIEWER

    def get(self, request, ws, product_id):
        from .similar import similar

        kind = "insight" if request.GET.get("kind") == "insight" else "idea"
        query = request.GET.get("title") or request.GET.get("text") or request.GET.get("q") or ""
        if kind == "insight":
            rows = similar(Insight.objects.filter(product=self.product), field="text", query=query)
        else:
            rows = similar(Idea.objects.filter(product=self.product, merged_into__isnull=True), field="title",
                           query=query)
        return render(request, "discovery/_similar.html", {"rows": rows, "kind": kind, "workspace": self.workspace,
                                                           "product": self.product})
