"""Signing in and out, changing one's password, and one's own API tokens.

Sign-in and password change are Django's own views with our templates. Logout is Django's
LogoutView, which accepts POST only, so a link prefetcher cannot sign anyone out.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontline.audit.services import client_ip
from frontline.core.errors import DomainError

from .models import ApiToken
from .services import password_change, token_issue, token_revoke


def lockout_response(request, original_response=None, credentials=None):
    """The page axes shows instead of signing in while an account or address is locked
    (AXES_LOCKOUT_CALLABLE). 429: the client should wait, it is not forbidden forever."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"lockout_minutes": minutes}, status=429)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        # The form checked the old password and validated the new one; the service sets
        # it, revokes the API tokens and audits the change as this person.
        user = form.user
        password_change(
            user=user,
            password=form.cleaned_data["new_password1"],
            actor=user,
            ip=client_ip(self.request),
        )
        update_session_auth_hash(self.request, user)
        messages.success(
            self.request,
            _("Your password was changed. Your API tokens were revoked."),
        )
        return redirect(self.get_success_url())


def _own_token(request, pk: int) -> ApiToken:
    # Another account's token is a 404 like anything outside one's reach.
    return get_object_or_404(ApiToken, pk=pk, user=request.user)


@login_required
def token_list(request):
    new_key = None
    if request.method == "POST":
        try:
            _token, new_key = token_issue(
                user=request.user,
                name=request.POST.get("name", ""),
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            messages.error(request, str(exc))
    tokens = request.user.api_tokens.all()
    return render(
        request,
        "accounts/tokens.html",
        {"tokens": tokens, "new_key": new_key, "token_days": settings.API_TOKEN_DAYS},
    )


@login_required
@require_POST
def token_revoke_view(request, pk: int):
    token = _own_token(request, pk)
    if token.revoked_at is not None:
        raise Http404
    token_revoke(token=token, actor=request.user, ip=client_ip(request))
    messages.success(request, _("The token %(prefix)s… was revoked.") % {"prefix": token.prefix})
    return redirect("token_list")
