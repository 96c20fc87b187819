"""Start the session clocks at login (the absolute 12-hour limit counts from here)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from servicedesk.middleware import SESSION_SEEN, SESSION_STARTED


@receiver(user_logged_in, dispatch_uid="servicedesk.session_clock")
def start_session_clock(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = timezone.now().isoformat()
        request.session[SESSION_STARTED] = now
        request.session[SESSION_SEEN] = now
