"""`GET /api/v1/audit`: the audit trail for the roles the policy lets read it."""

from __future__ import annotations

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from frontline.accounts.policy import Action, policy_for
from frontline.api.views import ERRORS, ApiView, ErrorSerializer

from .models import AuditAction
from .queries import event_as_dict, filter_events, readable_events


class AuditEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text=gettext_lazy("When, ISO 8601 with the offset."))
    actor = serializers.CharField(
        help_text=gettext_lazy("The account's username; empty for the system.")
    )
    action = serializers.ChoiceField(choices=AuditAction.choices)
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    region = serializers.CharField(help_text=gettext_lazy("The region path of the data."))
    detail = serializers.DictField(help_text=gettext_lazy("What else the event records."))
    ip = serializers.IPAddressField(
        allow_null=True, help_text=gettext_lazy("The client's address; null for a command.")
    )

    def to_representation(self, instance):
        return event_as_dict(instance)


@extend_schema(
    summary=gettext_lazy("The audit trail"),
    description=gettext_lazy(
        "Who did what to whose data, newest first. Only for roles allowed to read the "
        "audit trail (city administrators); others get 403."
    ),
    parameters=[
        OpenApiParameter("actor", str, description=gettext_lazy("Only this account (username).")),
        OpenApiParameter(
            "action", str, enum=AuditAction.values, description=gettext_lazy("Only this action.")
        ),
        OpenApiParameter(
            "since",
            str,
            description=gettext_lazy(
                "Only events at or after this moment: a date (2026-11-29) or an ISO date and "
                "time (2026-11-29T08:00:00+08:00). Anything else: 400."
            ),
        ),
    ],
    responses={
        200: AuditEventSerializer(many=True),
        400: ErrorSerializer,
        403: ErrorSerializer,
        **ERRORS,
    },
)
class AuditList(ApiView, ListAPIView):
    serializer_class = AuditEventSerializer

    def get_queryset(self):
        # Not audited itself: see frontline/audit/queries.py.
        policy_for(self.request.user).require(Action.READ_AUDIT)
        params = self.request.query_params
        return filter_events(
            readable_events(self.request.user),
            actor=params.get("actor", ""),
            action=params.get("action", ""),
            since=params.get("since", ""),
        )
