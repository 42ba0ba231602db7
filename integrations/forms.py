from django import forms

from pmhub.webhooks import webhook_events

from .models import Channel


def _event_choices():
    # The same labels as the webhook form ("Story: created"): no raw event codes on the page.
    return [(e.name, e.name.replace("_", " ").replace(".", ": ").capitalize()) for e in webhook_events()]


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(choices=Channel.Kind.choices, label="Where")
    name = forms.CharField(max_length=120, help_text="How people recognise it, for example #product-updates.")
    url = forms.CharField(max_length=1000, label="Incoming-webhook URL", required=False,
                          widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                          help_text="Slack: https://hooks.slack.com/services/…; Teams: the incoming-webhook or "
                                    "Workflows URL. Stored encrypted and never shown again.")
    product = forms.TypedChoiceField(coerce=int, required=False, empty_value=None,
                                     help_text="Leave empty for every product of the workspace.")
    # Evaluated per form: the registry is filled by the apps' ready().
    events = forms.MultipleChoiceField(choices=_event_choices, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, products=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [("", "Every product")] + [(p.id, p.name) for p in products]
        if editing:
            del self.fields["kind"]
            self.fields["url"].help_text = "Leave empty to keep the current URL."
        else:
            self.fields["url"].required = True


class RepositoryConnectForm(forms.Form):
    product = forms.TypedChoiceField(coerce=int)
    full_name = forms.CharField(max_length=140, label="Repository",
                                help_text="owner/name, for example acme/mobile-app.")
    token = forms.CharField(max_length=400, required=False, label="Fine-grained token (optional)",
                            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                            help_text="Read-only access to the repository, for later use. Stored encrypted.")

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.id, p.name) for p in products]


class RepositoryForm(forms.Form):
    merge_status = forms.ChoiceField(required=False, label="When a linked pull request is merged, move the story to")
    token = forms.CharField(max_length=400, required=False, label="New fine-grained token (optional)",
                            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                            help_text="Leave empty to keep the current one.")

    def __init__(self, *args, workflow=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["merge_status"].choices = [("", "Leave the status as it is")] + [
            (s["key"], s["label"]) for s in workflow]
