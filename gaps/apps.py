from django.apps import AppConfig


class GapsConfig(AppConfig):
    name = "gaps"
