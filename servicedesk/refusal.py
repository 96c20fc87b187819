"""One answer to a refused form, everywhere: the page again, its errors shown, status 400.

A 200 would look like success to a browser, a proxy or a test; a 422 for some forms and a 400
for others made the same mistake read two ways. Function views call ``refused``; class-based
form views mix in ``RefusedFormMixin``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

REFUSED = 400


def refused(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The form's page again with its errors, as a 400."""
    return render(request, template, context, status=REFUSED)


class RefusedFormMixin:
    """For CreateView, UpdateView and FormView: an invalid form comes back as a 400, not a 200."""

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)  # type: ignore[misc]
        response.status_code = REFUSED
        return response
