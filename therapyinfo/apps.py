from django.apps import AppConfig


class TherapyinfoConfig(AppConfig):
    name = "therapyinfo"
    verbose_name = "Therapy information"

    def ready(self):
        # Content saves bump the content version (and render Markdown fields).
        from . import signals

        signals.connect()
