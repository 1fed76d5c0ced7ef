from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "frontline.supervision"
    label = "supervision"
