from django import forms

from pmhub.models import Role

NO_ROLE = ""


class ScimTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The identity provider that will use it, e.g. 'Okta'.")


class ScimDefaultRoleForm(forms.Form):
    default_role = forms.TypedChoiceField(
        choices=Role.choices, coerce=int, label="Default role",
        help_text="The role of a provisioned person whom no mapped group gives a role.")


class ScimGroupRoleForm(forms.Form):
    role = forms.TypedChoiceField(choices=[(NO_ROLE, "No role (the group changes no one's role)"), *Role.choices],
                                  coerce=int, empty_value=None, required=False, label="Role of its members")
