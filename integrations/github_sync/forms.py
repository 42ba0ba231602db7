from django import forms

_SECRET = {"autocomplete": "off"}


class GitHubAppForm(forms.Form):
    """Record (or edit) a GitHub App: its key and webhook secret are write-only, sealed by the service."""

    name = forms.CharField(max_length=120, help_text="How people recognise it, for example PMHub for Acme.")
    app_id = forms.CharField(max_length=13, label="App ID", help_text="The number on the App's settings page.")
    api_url = forms.CharField(
        max_length=300,
        label="API address",
        initial="https://api.github.com",
        help_text="https://api.github.com, or your GitHub Enterprise API address.",
    )
    product = forms.TypedChoiceField(coerce=int, help_text="New installations' repositories are connected to it.")
    private_key = forms.CharField(
        max_length=10000,
        required=True,
        label="Private key (PEM)",
        widget=forms.Textarea(attrs={"rows": 4, **_SECRET}),
        help_text="The whole .pem file GitHub gave. Stored encrypted and never shown again.",
    )
    webhook_secret = forms.CharField(
        max_length=200,
        required=True,
        label="Webhook secret",
        widget=forms.PasswordInput(render_value=False, attrs=_SECRET),
        help_text="The secret set on the App's webhook. Stored encrypted, never shown.",
    )

    def __init__(self, *args, products=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p.id, p.name) for p in products]
        if editing:
            del self.fields["app_id"]
            self.fields["private_key"].required = self.fields["webhook_secret"].required = False
            self.fields["private_key"].label = "New private key (optional)"
            self.fields["webhook_secret"].label = "New webhook secret (optional)"
            for name in ("private_key", "webhook_secret"):
                self.fields[name].help_text = "Leave empty to keep the current one."
