from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsConfig(AppConfig):
    name = "frontline.requests"
    label = "requests"
    verbose_name = _("Requests")
    default_auto_field = "django.db.models.BigAutoField"
