from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: versions that refuse stale saves, the limits on what
    people can enter, and the API's preconditions. Ground floor: imports no app."""

    name = "core"
    verbose_name = "THRIVE Mapper core"
