"""Login lockout (django-axes): hooks that make it say the same thing to everyone.

The lockout counts failures per username whether or not the account exists, and the page
shown is the same for both, so a visitor cannot learn which usernames are real.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

USERNAME_LIMIT = 255


def normalised_username(request: HttpRequest, credentials: dict | None) -> str:
    """Count "Maya", "maya " and "MAYA" as one username, so case games buy no extra guesses."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    # The lockout table holds 255 characters; no real username is longer (ours stop at 150), so a
    # longer one is a probe, counted under its first 255 characters instead of failing the insert.
    return str(username).strip().lower()[:USERNAME_LIMIT]


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "registration/lockout.html", {"lockout_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
