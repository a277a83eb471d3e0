from django.apps import AppConfig


class TherapyinfoConfig(AppConfig):
    name = "therapyinfo"
    verbose_name = "Therapy information"
