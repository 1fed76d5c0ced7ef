from django.apps import AppConfig


class DutyConfig(AppConfig):
    name = "frontline.duty"
    label = "duty"
