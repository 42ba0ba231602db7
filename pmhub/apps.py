from django.apps import AppConfig


class PmhubConfig(AppConfig):
    name = "pmhub"
    verbose_name = "PMHub core"
