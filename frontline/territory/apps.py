from django.apps import AppConfig


class TerritoryConfig(AppConfig):
    name = "frontline.territory"
    label = "territory"
