from django.apps import AppConfig


class TherapyinfoConfig(AppConfig):
    name = "therapyinfo"
    verbose_name = "Therapy information"

    def ready(self):
        # Content saves bump the version that page-cache keys depend on.
        from . import signals

        signals.connect()
