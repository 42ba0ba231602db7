"""Sign-in seams that a higher app fills in (the core imports no feature app).

`password_refusal_register(check)`: `check(user) -> str | None` is asked by every password sign-in
form (the site's and the admin's, pmhub.forms.LoginThrottleMixin) and by the password-reset link
(which would otherwise sign its owner in with a new password). A non-empty answer refuses the
password and is shown as the reason. The sso app registers one in its AppConfig.ready: people of a
verified domain that requires single sign-on use their identity provider, not a password
(docs/sso.md, "Requiring SSO", and its break-glass).

`sign_in_options_register(template)`: a template included under the sign-in form (the sso app's
"Continue with SSO" link), so the login page shows it without knowing the app.
"""

from __future__ import annotations

from collections.abc import Callable

_refusals: list[Callable] = []
_options: list[str] = []


def password_refusal_register(check: Callable) -> None:
    if check not in _refusals:
        _refusals.append(check)


def password_refusal(user) -> str | None:
    """Why `user` may not sign in with a password, or None when they may."""
    if user is None:
        return None
    for check in _refusals:
        reason = check(user)
        if reason:
            return reason
    return None


def sign_in_options_register(template: str) -> None:
    if template not in _options:
        _options.append(template)


def sign_in_options() -> list[str]:
    return list(_options)
