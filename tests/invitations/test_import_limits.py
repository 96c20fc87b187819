"""A visit list with a cell over its limit is reported by row and column with both lengths, never cut."""

import pytest
from django.urls import reverse

from feedback.models import Invitation, InvitationImport
from tests.invitations.test_import import csv_file, when

pytestmark = pytest.mark.django_db


def test_a_first_name_over_the_limit_is_reported_with_its_length_and_nothing_is_cut(
    manager_client, survey, site, rules
):
    body = f"{'N' * 134},ana@example.org,,{when()},Riverside Surgery,,L1\n"
    manager_client.post(
        reverse("invitations:invitation_import_upload"), {"survey": survey.pk, "file": csv_file(body)}
    )
    job = InvitationImport.objects.get()
    assert job.status == "rejected"
    (issue,) = [issue for issue in job.issues if issue["kind"] == "error"]
    assert (issue["row"], issue["column"]) == (2, "first name")
    assert "keep it to 80 characters (it has 134)" in str(issue)
    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk])).content.decode()
    assert "keep it to 80 characters (it has 134)" in page
    assert not Invitation.objects.exists()
