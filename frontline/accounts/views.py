"""Signing in and out: Django's own views with our templates.

Logout is Django's LogoutView, which accepts POST only, so a link prefetcher cannot
sign anyone out.
"""

from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView
