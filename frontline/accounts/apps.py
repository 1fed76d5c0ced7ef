from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "frontline.accounts"
    label = "accounts"
