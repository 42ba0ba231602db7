import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache

from .models import ApiToken, Role, User

TIME_ZONES = sorted(zoneinfo.available_timezones())


class ThrottledAuthenticationForm(AuthenticationForm):
    """Sign-in limited per account and per client address (failures in a sliding window)."""

    error_messages = AuthenticationForm.error_messages | {
        "throttled": "Too many failed sign-in attempts. Wait a few minutes and try again.",
    }

    def _keys(self):
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        account = (self.data.get("username") or "").strip().lower()
        return [f"login-fail:ip:{ip}", f"login-fail:acct:{account}"]

    def clean(self):
        if any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in self._keys()):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            for key in self._keys():
                cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW)
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)
            raise


class SignUpForm(forms.Form):
    name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField()
    password = forms.CharField(
        widget=forms.PasswordInput, help_text=password_validation.password_validators_help_text_html()
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this e-mail already exists. Sign in instead.")
        return email

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("email"):
            try:
                password_validation.validate_password(data["password"], User(email=data["email"]))
            except forms.ValidationError as e:
                self.add_error("password", e)
        return data


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120)
    time_zone = forms.ChoiceField(choices=[(z, z) for z in TIME_ZONES], initial="UTC")


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it, e.g. 'CI metrics push'.")
    workspace = forms.ModelChoiceField(queryset=None)
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)

    def __init__(self, *args, workspaces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces
