from django import forms

from pmhub.webhooks import webhook_events

from .models import SECTION_CHOICES, ReportSubscription

WEEKDAYS = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday"), (5, "Saturday"),
            (6, "Sunday")]


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=120)
    product = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                     help_text="Leave empty for a report over every product of the workspace.")
    cadence = forms.ChoiceField(choices=ReportSubscription.Cadence.choices)
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0, label="Weekday (weekly)")
    day_of_month = forms.TypedChoiceField(choices=[(d, str(d)) for d in range(1, 29)], coerce=int, initial=1,
                                          label="Day of the month (monthly)")
    hour = forms.TypedChoiceField(choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, initial=8,
                                  help_text="In the workspace's time zone.")
    sections = forms.MultipleChoiceField(choices=SECTION_CHOICES, widget=forms.CheckboxSelectMultiple,
                                         initial=[k for k, _ in SECTION_CHOICES])
    member_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Members",
                                                widget=forms.CheckboxSelectMultiple)
    emails = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Outside e-mail addresses",
                             help_text="One per line. They can unsubscribe with the link in the e-mail.")

    def __init__(self, *args, products=(), members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Whole workspace")] + [(p.id, p.name) for p in products]
        self.fields["member_ids"].choices = [(u.id, f"{u.display_name} <{u.email}>") for u in members]

    def clean_emails(self):
        return [line.strip() for line in self.cleaned_data["emails"].replace(",", "\n").splitlines() if line.strip()]


class PreviewForm(forms.Form):
    product = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    sections = forms.MultipleChoiceField(choices=SECTION_CHOICES, required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Whole workspace")] + [(p.id, p.name) for p in products]


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    description = forms.CharField(max_length=200, required=False)
    # Evaluated per form: the registry is filled by the apps' ready(), after this module may be imported.
    events = forms.MultipleChoiceField(
        choices=lambda: [(e.name, e.name.replace("_", " ").replace(".", ": ").capitalize()) for e in webhook_events()],
        widget=forms.CheckboxSelectMultiple)


class PreferencesForm(forms.Form):
    def __init__(self, *args, preferences=(), **kwargs):
        super().__init__(*args, **kwargs)
        for pref in preferences:
            self.fields[pref["kind"]] = forms.BooleanField(required=False, initial=pref["email"],
                                                           label=pref["label"])


