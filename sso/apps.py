from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self):
        # The core's sign-in forms ask pmhub.signin whether a password may be used; a verified
        # domain that requires SSO says no (decision 1803). The login page shows "Continue with SSO".
        from pmhub.signin import password_refusal_register, sign_in_options_register

        from .services import password_refusal_for

        password_refusal_register(password_refusal_for)
        sign_in_options_register("sso/_login_option.html")
        from . import saml_tasks  # noqa: F401  (registers the SAML metadata tasks with the worker)
