from django import forms

from pmhub import formfields as bounded

from .models import ChangeRequest


class IterationForm(forms.Form):
    name = forms.CharField(max_length=120)
    goal = forms.CharField(max_length=300, required=False)
    start_date = bounded.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end_date = bounded.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    capacity_points = bounded.IntegerField(min_value=0, initial=0, label="Capacity (points)")


class StoryPickForm(forms.Form):
    story = bounded.IntegerField()


class ScopeChangeForm(forms.Form):
    story = bounded.IntegerField()
    kind = forms.ChoiceField(choices=ChangeRequest.Kind.choices)
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(max_length=300, required=False)


class UploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="A Jira CSV export or any CSV with a header row.")
