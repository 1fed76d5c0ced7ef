"""A domain NotFound that escapes a page view is a 404 page, not a 500.

Views catch the errors they can explain in place; a service's NotFound (a row or a path
outside the jurisdiction reads as one that does not exist) becomes the usual 404 page here.
PermissionDenied is answered by `core.middleware.PermissionDeniedMiddleware`.
"""

from __future__ import annotations

from django.views.defaults import page_not_found

from .errors import NotFound


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        return None
