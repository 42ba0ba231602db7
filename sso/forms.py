"""Forms of the single sign-on pages: the sign-in e-mail, and the settings of providers and domains."""

from django import forms
from django.core.exceptions import ValidationError

from pmhub.models import Role

from .models import MAX_GROUP_ROLES, IdentityProvider


class SsoEmailForm(forms.Form):
    email = forms.EmailField(label="Work e-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))


ROLE_WORDS = {label.lower(): value for value, label in Role.choices}


def group_roles_text(rows) -> str:
    """The group table as the form shows it: one "group: role" per line."""
    labels = dict(Role.choices)
    return "\n".join(f"{row['group']}: {labels.get(row['role'], '').lower()}" for row in rows or [])


class ProviderForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="What the sign-in page shows, for example \"Okta\".")
    # "SAML 2.0" is the standard's name, not a number we formatted (data-raw-ok for the page sweep).
    protocol = forms.ChoiceField(choices=IdentityProvider.Protocol.choices, initial=IdentityProvider.Protocol.OIDC,
                                 widget=forms.Select(attrs={"data-raw-ok": ""}))
    enabled = forms.BooleanField(required=False, initial=True, label="Enabled",
                                 help_text="A disabled provider signs nobody in and is not offered.")
    issuer = forms.URLField(max_length=500, required=False, label="Issuer URL",
                            help_text="OpenID Connect: for example https://acme.okta.com. PMHub reads "
                                      "<issuer>/.well-known/openid-configuration.")
    client_id = forms.CharField(max_length=255, required=False, label="Client id")
    client_secret = forms.CharField(max_length=1000, required=False, label="Client secret",
                                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
                                    help_text="Stored encrypted and never shown again.")
    scopes = forms.CharField(max_length=255, required=False, initial="openid email profile",
                             help_text="Space-separated; add \"groups\" if your provider needs it to send groups.")
    groups_claim = forms.CharField(max_length=100, required=False, initial="groups", label="Groups claim",
                                   help_text="The ID-token claim (SAML: the attribute) holding the person's "
                                             "groups (Entra ID app roles: \"roles\").")
    metadata_url = forms.URLField(max_length=500, required=False, label="SAML metadata URL")
    metadata_xml = forms.CharField(required=False, max_length=200_000, label="SAML metadata XML",
                                   widget=forms.Textarea(attrs={"rows": 4}))
    entity_id = forms.CharField(max_length=500, required=False, label="SAML identity provider entity id",
                                help_text="SAML: read from the metadata when it is loaded.")
    email_attribute = forms.CharField(max_length=200, required=False, label="SAML e-mail attribute",
                                      help_text="Leave empty for the usual names (email, mail, Entra ID's "
                                                "emailaddress claim...); see docs/sso.md.")
    name_attribute = forms.CharField(max_length=200, required=False, label="SAML name attribute",
                                     help_text="Leave empty for the usual names (name, displayName, or first "
                                               "and last name).")
    default_role = forms.TypedChoiceField(choices=Role.choices, coerce=int, initial=Role.VIEWER,
                                          help_text="The role of a new account, and of anyone whose groups "
                                                    "map to no role.")
    group_roles = forms.CharField(
        required=False, max_length=20_000, label="Groups to roles", widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"One \"group: role\" per line (viewer, editor or admin), at most {MAX_GROUP_ROLES}. The highest "
                  "role of a person's groups applies at every sign-in, replacing a role set by hand.")
    jit_enabled = forms.BooleanField(required=False, initial=True, label="Create accounts on first sign-in",
                                     help_text="Otherwise only people who already have an account may sign in.")

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["client_secret"].help_text = "Leave empty to keep the current secret."

    def clean_group_roles(self):
        rows = []
        for number, line in enumerate((self.cleaned_data.get("group_roles") or "").splitlines(), start=1):
            if not line.strip():
                continue
            group, colon, role = line.rpartition(":")
            if not colon or not group.strip() or role.strip().lower() not in ROLE_WORDS:
                raise ValidationError(f"Line {number}: write \"group: role\" with viewer, editor or admin.")
            rows.append({"group": group.strip(), "role": ROLE_WORDS[role.strip().lower()]})
        return rows


class DomainForm(forms.Form):
    domain = forms.CharField(max_length=253, help_text="For example acme.com: people with an @acme.com address.")
    require_sso = forms.BooleanField(required=False, label="Require single sign-on",
                                     help_text="Once verified, passwords are refused for these addresses.")
