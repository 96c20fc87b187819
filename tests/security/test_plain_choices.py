"""No select on any form shows Django's "---------": it says "Choose…", "None" or "All"."""

from __future__ import annotations

import pytest

from tests.security.test_bounds import _forms

pytestmark = pytest.mark.django_db


def test_no_form_offers_a_row_of_dashes():
    dashed, rendered = [], 0
    for form_class in _forms():
        try:
            form = form_class()
        except TypeError:
            continue  # needs its context (a run, a survey …): covered by its own page tests
        rendered += 1
        if "---------" in str(form):
            dashed.append(f"{form_class.__module__}.{form_class.__name__}")
    assert dashed == []
    assert rendered > 20  # the check really looked at the forms


def test_a_filter_says_all_and_a_required_choice_asks(manager_client):
    from django.urls import reverse

    page = manager_client.get(reverse("invitations:invitation_list")).content.decode()
    assert "---------" not in page
    assert ">All</option>" in page
