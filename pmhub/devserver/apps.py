from django.apps import AppConfig


class DevserverConfig(AppConfig):
    name = "pmhub.devserver"
    label = "pmhub_devserver"
    verbose_name = "Development server (daphne's runserver)"
