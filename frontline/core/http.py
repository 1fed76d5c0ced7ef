"""Domain errors that escape a page view become the status they mean, not a 500.

Views catch the errors they can explain in place; anything else that a service raised
as NotFound or PermissionDenied is a 404 or a 403 here, rendered by the usual templates.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as HttpPermissionDenied
from django.http import Http404

from .errors import NotFound, PermissionDenied


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            raise Http404(exception.message) from exception
        if isinstance(exception, PermissionDenied):
            raise HttpPermissionDenied(exception.message) from exception
        return None
