from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from servicedesk import identity


def practice(request: HttpRequest) -> dict:
    # The look is read (from the cache) only by the pages that show it: patient pages, posters, report.
    return {"PRACTICE_NAME": settings.PRACTICE_NAME, "PRACTICE_IDENTITY": SimpleLazyObject(identity.current)}
