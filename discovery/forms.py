from django import forms

from pmhub import formfields as bounded

from .models import Company, Insight


def company_by_text(product, value):
    """A company of the product named by its domain or external id (None for blank)."""
    value = (value or "").strip()
    if not value:
        return None
    from django.db.models import Q

    company = product.companies.filter(Q(domain__iexact=value) | Q(external_id=value)).first()
    if company is None:
        raise forms.ValidationError("No company of this product has this domain or external id.")
    return company


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=160)
    domain = forms.CharField(max_length=190, required=False, help_text="e.g. acme.com")
    segment = forms.ModelChoiceField(queryset=None, required=False, help_text="One of the product's segments.")
    revenue = bounded.DecimalField(label="Revenue or ARR (per year)", max_digits=14, decimal_places=2, required=False,
                                   min_value=0)
    currency = forms.CharField(max_length=3, initial="EUR")
    plan = forms.CharField(max_length=80, required=False)
    tier = forms.CharField(max_length=80, required=False)
    external_id = forms.CharField(label="External id", max_length=100, required=False, help_text="The id in your CRM.")

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["segment"].queryset = product.segments.order_by("name")

    @classmethod
    def initial_for(cls, company: Company) -> dict:
        return {f: getattr(company, f) for f in ("name", "domain", "revenue", "currency", "plan", "tier",
                                                 "external_id")} | {"segment": company.segment_id}


class PersonForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=190)
    name = forms.CharField(max_length=160, required=False)


class InsightForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000,
                           help_text="What the customer said, in their words.")
    author_email = forms.EmailField(label="From (e-mail)", max_length=190, required=False,
                                    help_text="Finds the person and their company.")
    author_name = forms.CharField(label="From (name)", max_length=160, required=False)
    company = forms.CharField(max_length=190, required=False,
                              help_text="Domain or external id; by default the company of the e-mail's domain.")

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product

    def clean_company(self):
        return company_by_text(self.product, self.cleaned_data.get("company"))


class InsightEditForm(forms.Form):
    state = forms.ChoiceField(choices=Insight.State.choices)
    owner = forms.ModelChoiceField(queryset=None, required=False)
    title = forms.CharField(max_length=200, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=20_000)
    company = forms.CharField(max_length=190, required=False, help_text="Domain or external id.")

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.auth import get_user_model

        self.product = product
        self.fields["owner"].queryset = get_user_model().objects.filter(
            memberships__workspace_id=product.workspace_id).order_by("name", "email")

    def clean_company(self):
        return company_by_text(self.product, self.cleaned_data.get("company"))

    @classmethod
    def initial_for(cls, insight: Insight) -> dict:
        company = insight.company
        return {"state": insight.state, "owner": insight.owner_id, "title": insight.title, "text": insight.text,
                "company": (company.domain or company.external_id) if company else ""}


class HighlightForm(forms.Form):
    passage = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000,
                              help_text="The words that speak for the work.")
    importance = bounded.IntegerField(min_value=1, max_value=5, initial=3, help_text="1 (nice to have) to 5 "
                                                                                      "(critical).")
    idea = forms.ModelChoiceField(queryset=None, required=False, help_text="What the customer asks for, "
                                                                           "in the ideas list.")
    epic = forms.ModelChoiceField(queryset=None, required=False)
    story = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from backlog.models import Epic, Story

        from .models import Idea

        self.fields["idea"].queryset = Idea.objects.filter(product=product, merged_into__isnull=True).order_by("title")
        self.fields["epic"].queryset = Epic.objects.filter(product=product).order_by("title")
        self.fields["story"].queryset = Story.objects.filter(product=product).order_by("rank")


class CsvImportForm(forms.Form):
    kind = forms.ChoiceField(choices=[("companies", "Companies"), ("insights", "Insights")],
                             help_text="Companies: name, domain, segment, revenue, currency, plan, tier, external id. "
                                       "Insights: text, title, email, name, company (external id), id.")
    file = forms.FileField(label="CSV file", help_text="UTF-8 (or Excel's CSV), up to 20 MB, with a header row.")


class IntakeForm(forms.Form):
    form_enabled = forms.BooleanField(label="The feedback form is open", required=False)
    form_origins = forms.CharField(label="Sites that may show the form", required=False, max_length=4000,
                                   widget=forms.Textarea(attrs={"rows": 3}),
                                   help_text="One origin per line, e.g. https://app.example.com")


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=160)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)
    status = forms.ChoiceField(label="Public status", choices=[])
    published = forms.BooleanField(label="Published on the portal", required=False)
    epics = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    stories = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    initiative = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from backlog.models import Epic, Story
        from roadmaps.models import Initiative

        from .models import Idea

        self.fields["status"].choices = Idea.Status.choices
        self.fields["epics"].queryset = Epic.objects.filter(product=product).order_by("title")
        self.fields["stories"].queryset = Story.objects.filter(
            pk__in=list(Story.objects.filter(product=product).order_by("rank").values_list("pk", flat=True)[:300]))
        self.fields["initiative"].queryset = Initiative.objects.filter(product=product).order_by("title")

    @classmethod
    def initial_for(cls, idea) -> dict:
        return {"title": idea.title, "description": idea.description, "status": idea.status,
                "published": idea.published, "epics": list(idea.epics.values_list("pk", flat=True)),
                "stories": list(idea.stories.values_list("pk", flat=True)), "initiative": idea.initiative_id}


class PortalForm(forms.Form):
    enabled = forms.BooleanField(label="The portal is open to the public", required=False)
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(label="Address", max_length=60,
                           help_text="Lower-case letters, digits and dashes: the portal lives at /portal/ and then "
                                     "this address.")
    intro = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=1000, required=False)
    colour = forms.CharField(max_length=7, initial="#1f6feb", widget=forms.TextInput(attrs={"type": "color"}))


LOGO_ACCEPT = "image/png,image/jpeg,image/gif,image/webp"


class PortalLogoForm(forms.Form):
    logo = forms.FileField(label="Logo", help_text="PNG, JPEG, GIF or WebP, up to 256 KB and 2000 pixels a side.",
                           widget=forms.ClearableFileInput(attrs={"accept": LOGO_ACCEPT}))


class ReleaseNoteForm(forms.Form):
    title = forms.CharField(max_length=160)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=20_000)
    release = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from roadmaps.models import Release

        self.fields["release"].queryset = Release.objects.filter(product=product).order_by("name")


class FeedbackForm(forms.Form):
    """What a customer said, linked to the work it asks for in one step (services.feedback_file)."""

    customer = forms.CharField(max_length=160, help_text="A company of this product by name; a new company is "
                                                         "added when none has this name.")
    segment = forms.ModelChoiceField(queryset=None, required=False, empty_label="No segment",
                                     help_text="For a new company: one of the product's segments.")
    source = forms.CharField(max_length=80, required=False, help_text="Interview, ticket, sales call…")
    importance = forms.TypedChoiceField(choices=[(1, "1 · nice to have"), (2, "2"), (3, "3 · important"), (4, "4"),
                                                 (5, "5 · critical")], coerce=int, initial=3)
    quote = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000,
                            help_text="What they said, in their words.")
    stories = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)
    epics = forms.ModelMultipleChoiceField(queryset=None, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, product, **kwargs):
        super().__init__(*args, **kwargs)
        from backlog.models import Epic, Story

        self.fields["segment"].queryset = product.segments.order_by("name")
        # The first 500 by rank, as the backlog's form offered (a slice cannot validate a choice: ids).
        first = list(Story.objects.filter(product=product).order_by("rank").values_list("id", flat=True)[:500])
        self.fields["stories"].queryset = Story.objects.filter(pk__in=first).order_by("rank")
        self.fields["epics"].queryset = Epic.objects.filter(product=product).order_by("title")
