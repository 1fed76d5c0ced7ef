from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "frontline.health"
    label = "health"
