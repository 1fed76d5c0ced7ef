from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "frontline.people"
    label = "people"
