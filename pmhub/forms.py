import zoneinfo

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache

from .models import ApiToken, Role, User
from .signin import password_refusal
from .utils import client_address

TIME_ZONES = sorted(zoneinfo.available_timezones())


def login_failure_keys(*, request, username: str) -> list[str]:
    """The two counters a failed sign-in adds to: the client (its real address, see
    pmhub.utils.client_address) and the account (case and spaces ignored)."""
    return [f"login-fail:ip:{client_address(request) if request else ''}",
            f"login-fail:acct:{(username or '').strip().lower()}"]


def login_failures_clear(*, username: str) -> None:
    """Forget an account's failures (after a password reset: its owner proved they hold the mailbox)."""
    cache.delete(f"login-fail:acct:{(username or '').strip().lower()}")


class LoginThrottleMixin:
    """Sign-in limited per account and per client address (failures in a window), for every
    sign-in form: the site's and the admin's. A locked account stays reachable: a password reset
    link signs its owner in and clears the account's counter."""

    error_messages = AuthenticationForm.error_messages | {
        "throttled": "Too many failed sign-in attempts. Wait a few minutes and try again, "
                     "or reset your password to sign in now.",
    }

    def _keys(self):
        return login_failure_keys(request=self.request, username=self.data.get("username"))

    def clean(self):
        if any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in self._keys()):
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "password_refused":
                raise  # the right password, refused by policy (pmhub.signin): not a failed guess
            for key in self._keys():
                cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW)
                try:
                    cache.incr(key)
                except ValueError:
                    cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)
            raise


    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        reason = password_refusal(user)
        if reason:
            raise forms.ValidationError(reason, code="password_refused")


def _count(key: str, window: int) -> int:
    """Add one to a counter that lives `window` seconds from its first use; the new value."""
    cache.add(key, 0, window)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1


class ThrottledPasswordResetForm(PasswordResetForm):
    """The password-reset form, limited like sign-in (docs/decisions/1414-password-reset-limits.md):
    per client address every request counts, and past PASSWORD_RESET_LIMIT in the window the form
    answers with an error (429); per e-mail address past the limit no more mail is sent, while the
    page says the same as always, so the form never tells whether an address has an account."""

    error_messages = {
        "throttled": "Too many password-reset requests from your network. Wait an hour and try again, "
                     "or ask your workspace admin.",
    }

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)
        self.throttled = False

    def clean(self):
        cleaned = super().clean()
        key = f"reset:ip:{client_address(self.request) if self.request else ''}"
        if _count(key, settings.PASSWORD_RESET_WINDOW) > settings.PASSWORD_RESET_LIMIT:
            self.throttled = True
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        return cleaned

    def save(self, **kwargs):
        email = (self.cleaned_data.get("email") or "").strip().lower()
        if _count(f"reset:email:{email}", settings.PASSWORD_RESET_WINDOW) > settings.PASSWORD_RESET_LIMIT:
            return  # same answer, no mail: a mailbox is not flooded
        super().save(**kwargs)


class ThrottledAuthenticationForm(LoginThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(LoginThrottleMixin, AdminAuthenticationForm):
    error_messages = AdminAuthenticationForm.error_messages | LoginThrottleMixin.error_messages


class SignUpForm(forms.Form):
    """Name and e-mail only: the answer is the same whether the address has an account or not, and
    the password is chosen on the page the e-mailed link opens (SignUpPasswordForm)."""

    name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField()

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class SignUpPasswordForm(forms.Form):
    password = forms.CharField(
        widget=forms.PasswordInput, help_text=password_validation.password_validators_help_text_html()
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password(self):
        password = self.cleaned_data["password"]
        password_validation.validate_password(password, User(email=self.email))
        return password


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
