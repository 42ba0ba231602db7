from django.apps import AppConfig


class ScimConfig(AppConfig):
    name = "scim"
    verbose_name = "SCIM provisioning"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from .middleware import on_login

        user_logged_in.connect(on_login, dispatch_uid="scim.session_index")
