"""Forms of the single sign-on pages: the sign-in e-mail, and the settings of providers and domains."""

from django import forms


class SsoEmailForm(forms.Form):
    email = forms.EmailField(label="Work e-mail", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
