"""Every attachment is read through here: signed in, allowed by the record it belongs to, audited.

There is no public URL: the files live in private storage and this view streams them after
``attachment_for_user`` has applied the owning record's rule (another site's under need to know is
a 404). Each download of the original writes an audit event; the display copy and thumbnail (our
own re-encodes) are served by the same check without one, cached privately. Only content types the
upload check allowed are ever stored, and every response says ``nosniff``, names the file for
download, and forbids scripts, so a file is never run as a page.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from servicedesk import audit
from servicedesk.access import team_required
from servicedesk.attachments.models import Attachment
from servicedesk.attachments.services import attachment_for_user

VARIANTS = {"original": "file", "display": "display", "thumbnail": "thumbnail"}
INLINE_TYPES = {"image/jpeg", "image/png", "image/webp"}


@team_required
def attachment_file(request: HttpRequest, pk: int, variant: str = "original") -> HttpResponse:
    found = attachment_for_user(request.user, pk)
    if found is None or variant not in VARIANTS:
        raise Http404("No such attachment.")
    attachment, owner = found
    stored = getattr(attachment, VARIANTS[variant])
    if not stored:
        raise Http404("This file is still being prepared, or could not be read.")
    if variant == "original":
        label = owner.describe(attachment.pk) if owner.describe else str(attachment)
        audit.log_action(attachment, audit.Action.VIEWED, request.user, {"file": "original"}, label=label)
    return _file_response(attachment, stored, variant)


def _file_response(attachment: Attachment, stored, variant: str) -> HttpResponse:
    content_type = attachment.content_type if variant == "original" else "image/jpeg"
    inline = variant != "original" or content_type in INLINE_TYPES
    response = FileResponse(
        stored.open("rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=attachment.original_name or f"attachment.{stored.name.rsplit('.', 1)[-1]}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # Our own re-encodes may sit in this browser's cache; the original is read afresh (and audited).
    response["Cache-Control"] = "private, max-age=3600" if variant != "original" else "private, no-store"
    return response
