import time

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation


class LanguageMiddleware(LocaleMiddleware):
    """Chinese unless the user chose otherwise with the language switch.

    Office PCs often run an English browser; their users still expect the Chinese UI, so
    the pages ignore Accept-Language and follow only the switch's cookie. API clients
    keep Accept-Language: a program asking for English error messages gets them.
    """

    def process_request(self, request):
        if request.path_info.startswith("/api/"):
            return super().process_request(request)
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response Django itself makes.

    Pages and API answers carry ID numbers, phones and care needs: no browser cache, back
    button snapshot or shared proxy may keep them. Static files are answered by WhiteNoise
    above this middleware and stay cacheable.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Cache-Control"] = "no-store"
        return response


class SessionExpiryMiddleware:
    """A session ends after SESSION_IDLE_SECONDS without a request and, whatever the
    activity, SESSION_ABSOLUTE_SECONDS after sign-in.

    The cookie's own age cannot be the absolute bound: every save of the session (this
    middleware's included) pushes it forward. So the sign-in time is kept in the session,
    and the last activity too, rewritten at most once a minute so that reading a page does
    not cost a database write each time.
    """

    SINCE = "frontline_signed_in_at"
    SEEN = "frontline_last_seen"
    TOUCH_EVERY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.utils.translation import gettext as _

        session = request.session
        now = int(time.time())
        since = session.get(self.SINCE)
        seen = session.get(self.SEEN)
        expired = ""
        if since is not None and now - since > settings.SESSION_ABSOLUTE_SECONDS:
            expired = "session_expired"
        elif seen is not None and now - seen > settings.SESSION_IDLE_SECONDS:
            expired = "session_idle"
        if expired:
            request.frontline_sign_out_reason = expired
            logout(request)
            messages.info(request, _("Your session has expired. Please sign in again."))
            return
        if since is None:
            session[self.SINCE] = now
        if seen is None or now - seen >= self.TOUCH_EVERY:
            session[self.SEEN] = now


class PermissionDeniedMiddleware:
    """An ordinary 403 is a page, not an error: Django logs a PermissionDenied raised by a
    view with its whole traceback. Answered here, it is logged as one line ("Forbidden:
    /path") like any other 4xx. The domain's PermissionDenied (from a service) gets the
    same page, with its message; the domain's NotFound (a row or path outside the
    jurisdiction reads as one that does not exist) the 404 page, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied
        from django.views.defaults import page_not_found, permission_denied

        from frontline.core.errors import NotFound
        from frontline.core.errors import PermissionDenied as DomainPermissionDenied

        if isinstance(exception, DomainPermissionDenied):
            from django.http import HttpResponseForbidden
            from django.template import loader

            body = loader.render_to_string(
                "403.html",
                {"exception": exception.message, "hint": exception.hint},
                request=request,
            )
            return HttpResponseForbidden(body)
        if isinstance(exception, PermissionDenied):
            return permission_denied(request, exception)
        if isinstance(exception, NotFound):
            return page_not_found(request, exception)
        return None


class ForwardedForMiddleware:
    """Behind FRONTLINE_PROXY_COUNT reverse proxies, the client's address is the one the
    outermost proxy saw, N entries from the right of X-Forwarded-For: without this every
    request would come from the proxy, and ten failed sign-ins by anyone would lock the
    proxy's address, that is, everybody. Entries further left are the client's own say
    and are never trusted. With no proxy (the default) the header is ignored."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.proxies = settings.FRONTLINE_PROXY_COUNT

    def __call__(self, request):
        if self.proxies:
            hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
            hops = [h for h in hops if h]
            if len(hops) >= self.proxies:
                request.META["REMOTE_ADDR"] = hops[-self.proxies]
        return self.get_response(request)
