"""Forms of the governance pages: shape only; rules live in services."""

from decimal import Decimal

from django import forms

from pmhub import formfields as bounded
from pmhub.models import User

from .models import LaunchCategory, Risk


class DateInput(forms.DateInput):
    input_type = "date"


class RiskForm(forms.ModelForm):
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Risk
        formfield_callback = staticmethod(bounded.formfield)
        fields = ["kind", "title", "description", "likelihood", "impact", "owner", "mitigation", "due_date",
                  "review_date", "status", "trend", "initiatives", "releases", "epics", "kpis"]
        widgets = {"due_date": DateInput, "review_date": DateInput,
                   "description": forms.Textarea(attrs={"rows": 3}), "mitigation": forms.Textarea(attrs={"rows": 3}),
                   "likelihood": forms.Select(choices=[(i, i) for i in range(1, 6)]),
                   "impact": forms.Select(choices=[(i, i) for i in range(1, 6)])}
        labels = {"impact": "Impact (severity of an issue)", "mitigation": "Mitigation plan or resolution",
                  "kpis": "KPIs"}
        help_texts = {"likelihood": "1 rare - 5 almost certain; an issue has happened (5)."}

    def __init__(self, *args, product, **kwargs):
        kwargs.setdefault("instance", Risk(product=product))
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(memberships__workspace_id=product.workspace_id)
        self.fields["owner"].empty_label = "Nobody yet"
        self.fields["initiatives"].queryset = product.initiatives.all()
        self.fields["releases"].queryset = product.releases.all()
        self.fields["epics"].queryset = product.epics.all()
        self.fields["kpis"].queryset = product.kpis.all()
        for name in ("initiatives", "releases", "epics", "kpis"):
            self.fields[name].required = False

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class IssueNoteForm(forms.Form):
    text = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), label="Decision or step")


class AppetiteForm(forms.Form):
    risk_appetite = bounded.IntegerField(min_value=1, max_value=25, label="Risk appetite (highest acceptable score)")
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)


class StatementForm(forms.Form):
    benefit = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 3}), label="Expected benefit",
                              help_text="Markdown.")
    cost = bounded.DecimalField(max_digits=14, decimal_places=2, required=False, min_value=0, label="Expected cost")
    processes = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                label="Business processes affected")
    people = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                             label="People and teams affected")
    risk = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Risk")
    assumptions = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    approver_role = forms.TypedChoiceField(coerce=int, label="Who approves",
                                           choices=[(30, "Admins"), (20, "Editors and admins")], initial=30)
    approvers = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False,
                                               label="Or these members only",
                                               widget=forms.CheckboxSelectMultiple)
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approvers"].queryset = User.objects.filter(
            memberships__workspace=workspace, memberships__role__gte=20).order_by("email")

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approved", "Approve"), ("rejected", "Reject")], widget=forms.HiddenInput)
    comment = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Required to reject.")
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)


class GovernanceSettingsForm(AppetiteForm):
    require_impact_statement = forms.BooleanField(
        required=False, label="Initiatives need an approved business impact statement before they are planned")


class LaunchItemForm(forms.Form):
    category = forms.ChoiceField(choices=LaunchCategory.choices, initial="other")
    title = forms.CharField(max_length=200)
    required = forms.BooleanField(required=False, initial=True)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, empty_label="Nobody yet")
    due_date = bounded.DateField(required=False, widget=DateInput)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(memberships__workspace=workspace).order_by("email")


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=120)
    items = forms.CharField(
        max_length=20000, widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One item a line: <em>category | title | required or optional | days before the release</em>, "
                  "for example <em>legal | Privacy review | required | 14</em>. Categories: documentation, "
                  "marketing, sales, support, legal, other.")

    def clean_items(self):
        rows = []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")]
            if len(parts) < 2 or parts[0] not in LaunchCategory.values or not parts[1]:
                raise forms.ValidationError(f"Line {number}: write “category | title”, with one of the categories.")
            required = (parts[2].lower() if len(parts) > 2 and parts[2] else "required") != "optional"
            try:
                days = int(parts[3]) if len(parts) > 3 and parts[3] else 7
            except ValueError:
                raise forms.ValidationError(f"Line {number}: days before is a whole number.") from None
            if not 0 <= days <= 365:
                raise forms.ValidationError(f"Line {number}: days before is 0 to 365.")
            rows.append({"category": parts[0], "title": parts[1][:200], "required": required, "days_before": days})
        if not rows:
            raise forms.ValidationError("Write at least one item.")
        return rows


class PortfolioSettingsForm(forms.Form):
    model = forms.ChoiceField(choices=[("wsjf", "WSJF: (value + time criticality + risk reduction) / cost"),
                                       ("value_cost", "Value / cost"),
                                       ("weighted", "Weighted: (value, strategic fit, minus risk) / cost")],
                              label="Scoring model")
    weight_value = bounded.IntegerField(min_value=0, max_value=10, initial=1, label="Weight of value (weighted)")
    weight_fit = bounded.IntegerField(min_value=0, max_value=10, initial=1, label="Weight of strategic fit (weighted)")
    weight_risk = bounded.IntegerField(min_value=0, max_value=10, initial=1, label="Weight of risk (weighted)")
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)


class CapacityForm(forms.Form):
    quarter = forms.RegexField(regex=r"^\d{4}-Q[1-4]$", max_length=7, help_text="Like 2027-Q1.",
                               error_messages={"invalid": "Write a quarter like 2027-Q1."})
    capacity = bounded.DecimalField(max_digits=8, decimal_places=1, min_value=0, required=False,
                                    help_text="Person-weeks; empty removes the quarter's capacity.")


class PortfolioEntryForm(forms.Form):
    value = bounded.IntegerField(min_value=1, max_value=10, initial=5)
    time_criticality = bounded.IntegerField(min_value=1, max_value=10, initial=5)
    risk_reduction = bounded.IntegerField(min_value=1, max_value=10, initial=5, label="Risk reduction")
    cost = bounded.DecimalField(max_digits=8, decimal_places=1, min_value=Decimal("0.1"), initial=1,
                                help_text="Person-weeks.")
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)


class PortfolioDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("fund", "Fund"), ("defer", "Defer"), ("stop", "Stop")])
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    version = bounded.IntegerField(widget=forms.HiddenInput, required=False)
