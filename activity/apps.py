from django.apps import AppConfig


class ActivityConfig(AppConfig):
    """Who changed what, when and how: the site's activity feed and each record's
    History page, read from the historical tables of every app. Top floor: it reads
    mapping, assessment, gaps and sites; nothing imports it."""

    name = "activity"
    verbose_name = "Activity and history"
