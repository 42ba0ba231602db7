from django import forms

from pmhub import formfields as bounded

from .models import Initiative, Level, Release, ShareLink


class ProductForm(forms.Form):
    name = forms.CharField(max_length=120)
    vision = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 5}), help_text="Markdown.")


class BusinessCaseForm(forms.Form):
    problem = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    expected_value = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    cost = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    risks = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=120)
    needs = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    size = forms.CharField(required=False, max_length=120)


class CompetitorForm(forms.Form):
    name = forms.CharField(max_length=120)
    strengths = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    weaknesses = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class CapabilityForm(forms.Form):
    name = forms.CharField(max_length=120)
    ours = forms.ChoiceField(choices=Level.choices)


class RatingForm(forms.Form):
    competitor = bounded.IntegerField()
    capability = bounded.IntegerField()
    level = forms.ChoiceField(choices=Level.choices)


class ObjectiveForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    quarter = forms.CharField(required=False, max_length=7, help_text="YYYY-Qn, or leave empty and give dates.")
    start_date = bounded.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = bounded.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class KeyResultForm(forms.Form):
    title = forms.CharField(max_length=200)
    start_value = bounded.DecimalField(max_digits=18, decimal_places=4, initial=0)
    target_value = bounded.DecimalField(max_digits=18, decimal_places=4)
    current_value = bounded.DecimalField(max_digits=18, decimal_places=4, initial=0)
    unit = forms.CharField(required=False, max_length=20)


class InitiativeForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    status = forms.ChoiceField(choices=Initiative.Status.choices)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    horizon = forms.ChoiceField(required=False, choices=[("", "—")] + Initiative.Horizon.choices)
    start_date = bounded.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end_date = bounded.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    labels = forms.CharField(required=False, help_text="Comma-separated.")
    confidence = bounded.IntegerField(min_value=0, max_value=100, initial=50)
    objectives = forms.TypedMultipleChoiceField(required=False, coerce=int, widget=forms.CheckboxSelectMultiple)
    release = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    version = bounded.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, product, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—")] + [(u.id, str(u)) for u in members]
        self.fields["objectives"].choices = [(o.id, o.title) for o in product.objectives.all()]
        self.fields["release"].choices = [("", "—")] + [(r.id, r.name) for r in product.releases.all()]
        self.product = product
        self.members = {u.id: u for u in members}

    def service_data(self) -> dict:
        d = dict(self.cleaned_data)
        d.pop("version", None)
        d["owner"] = self.members.get(d["owner"]) if d["owner"] else None
        d["objectives"] = list(self.product.objectives.filter(id__in=d["objectives"]))
        d["release"] = self.product.releases.filter(id=d["release"]).first() if d["release"] else None
        return d


class MoveForm(forms.Form):
    version = bounded.IntegerField(min_value=1)
    horizon = forms.ChoiceField(required=False, choices=[("", "—")] + Initiative.Horizon.choices)
    rank = bounded.FloatField(required=False)
    start_date = bounded.DateField(required=False)
    end_date = bounded.DateField(required=False)


class DependencyForm(forms.Form):
    blocker = bounded.IntegerField()
    blocked = bounded.IntegerField()


class ReleaseForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Release.Kind.choices)
    release_date = bounded.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SnapshotForm(forms.Form):
    name = forms.CharField(max_length=120)


class ShareLinkForm(forms.Form):
    """The sharer's choices: how long, which view, which initiatives (filters), and whether the link
    also opens presentation mode. Objectives and releases are this product's."""

    label = forms.CharField(required=False, max_length=120, label="Name", help_text="For your list of links.")
    days = bounded.IntegerField(min_value=1, max_value=365, initial=30, label="Days valid")
    view = forms.ChoiceField(choices=ShareLink.View.choices, initial=ShareLink.View.TIMELINE,
                             widget=forms.RadioSelect, label="Show")
    status = forms.ChoiceField(choices=[("", "Any status")] + Initiative.Status.choices, required=False)
    horizon = forms.ChoiceField(choices=[("", "Any horizon")] + Initiative.Horizon.choices, required=False)
    objective = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    release = forms.TypedChoiceField(coerce=int, empty_value=None, required=False)
    tag = forms.CharField(required=False, max_length=40, label="Initiative label",
                          help_text="Only initiatives with this label.")
    allow_present = forms.BooleanField(required=False, label="Also allow presentation mode")

    FILTERS = {"status": "status", "horizon": "horizon", "objective": "objective", "release": "release",
               "tag": "label"}

    def __init__(self, *args, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        objectives = list(product.objectives.order_by("title").values_list("id", "title")) if product else []
        releases = list(product.releases.order_by("release_date", "id").values_list("id", "name")) if product else []
        self.fields["objective"].choices = [("", "Any objective")] + objectives
        self.fields["release"].choices = [("", "Any release")] + releases

    @classmethod
    def service_data(cls, data: dict) -> dict:
        """cleaned_data as share_link_create's arguments (the filters in one dict)."""
        filters = {key: data[field] for field, key in cls.FILTERS.items() if data.get(field) not in (None, "")}
        return {"label": data["label"], "days": data["days"], "view": data["view"], "filters": filters,
                "allow_present": data["allow_present"]}
