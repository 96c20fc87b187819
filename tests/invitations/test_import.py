"""Visit lists by CSV: a report before anything is imported, and then all of it or none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from feedback import invitations
from feedback.invitations import Contact
from feedback.invitations import imports as invitation_import
from feedback.models import Invitation, InvitationImport, InvitationMessage

pytestmark = pytest.mark.django_db

HEADER = "first name,email,mobile,visit,location,language,visit id\n"


def when(hours_ago: int = 3) -> str:
    return (timezone.localtime() - timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M")


def csv_file(body: str, *, header: str = HEADER, encoding: str = "utf-8", name: str = "visits.csv"):
    return SimpleUploadedFile(name, (header + body).encode(encoding), content_type="text/csv")


@pytest.fixture
def upload(manager_client, survey, site, rules):
    def _upload(file):
        return manager_client.post(
            reverse("invitations:invitation_import_upload"), {"survey": survey.pk, "file": file}
        )

    return _upload


def test_a_good_file_is_checked_then_imported_only_when_the_manager_confirms(manager_client, upload):
    body = (
        f"Ana,ana@example.org,,{when()},Riverside Surgery,es,A1\n"
        f"Tom,,07700 900456,{when(4)},riverside surgery,,A2\n"
    )
    response = upload(csv_file(body))
    job = InvitationImport.objects.get()
    assert response.status_code == 302
    assert job.status == "validated"
    assert job.counts["ready"] == 2
    assert not Invitation.objects.exists()  # nothing before the go-ahead

    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk]))
    assert b"Import 2 invitations" in page.content

    manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "imported"
    assert job.counts["created"] == 2
    assert bytes(job.content) == b""  # the patients' details are not kept in the import
    assert Invitation.objects.filter(import_job=job, source="csv").count() == 2
    assert InvitationMessage.objects.filter(number=0, status="queued").count() == 2
    assert Invitation.objects.get(external_id="A1").language == "es"
    # Confirming again imports nothing more.
    manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    assert Invitation.objects.count() == 2


def test_row_errors_are_reported_by_row_and_column_and_block_the_whole_file(manager_client, upload):
    body = (
        f"Ana,ana@example.org,,{when()},Riverside Surgery,,B1\n"
        f"Bob,bob@,,{when()},Riverside Surgery,,B2\n"
        f"Cy,,12,{when()},Riverside Surgery,,B3\n"
        "Di,di@example.org,,31/31/2026 10:00,Riverside Surgery,,B4\n"
        f"Ed,ed@example.org,,{when()},Atlantis,,B5\n"
        f"Flo,,,{when()},Riverside Surgery,,B6\n"
        f"Gus,gus@example.org,,{when()},Riverside Surgery,klingon,B7\n"
    )
    upload(csv_file(body))
    job = InvitationImport.objects.get()
    assert job.status == "rejected"
    problems = {(issue["row"], issue["column"]) for issue in job.issues if issue["kind"] == "error"}
    assert problems == {
        (3, "email"),
        (4, "mobile"),
        (5, "visit"),
        (6, "location"),
        (7, "email / mobile"),
        (8, "language"),
    }
    assert "bob@" not in str(job.issues)  # the report quotes no patient data
    assert bytes(job.content) == b""
    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk]))
    assert b"Nothing has been imported" in page.content
    assert b"Import " not in page.content
    assert (
        manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk])).status_code
        == 302
    )
    assert not Invitation.objects.exists()


def test_a_row_with_two_problems_is_one_row_with_errors_and_both_problems_are_listed(manager_client, upload):
    body = (
        f",ana@example.org,,{when()},Atlantis,,C1\n"  # no first name, and an unknown location
        f"Bob,bob@example.org,,{when()},Atlantis,,C2\n"
    )
    upload(csv_file(body))
    job = InvitationImport.objects.get()
    assert job.counts["error"] == 2
    assert len([issue for issue in job.issues if issue["kind"] == "error"]) == 3
    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk]))
    assert page.context["error_count"] == 2


def test_duplicates_opted_out_and_recently_invited_contacts_are_reported_and_skipped(
    manager_client, upload, invite
):
    invite(email="recent@example.org")
    invitations.contact_suppress(
        contact=Contact.parse(email="gone@example.org"), reason="manager", now=timezone.now()
    )
    body = (
        f"Ana,ana@example.org,,{when()},Riverside Surgery,,C1\n"
        f"Ana,ana@example.org,,{when()},Riverside Surgery,,C1\n"
        f"Gone,Gone@Example.org,,{when()},Riverside Surgery,,C2\n"
        f"Rae,recent@example.org,,{when()},Riverside Surgery,,C3\n"
        f"Old,old@example.org,,{when(24 * 30)},Riverside Surgery,,C4\n"
    )
    upload(csv_file(body))
    job = InvitationImport.objects.get()
    assert job.status == "validated"
    assert job.counts == {"ready": 1, "duplicate": 1, "opted_out": 1, "recently_invited": 1, "too_old": 1}
    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk]))
    assert b"Opted out of survey messages" in page.content
    manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    assert list(Invitation.objects.filter(source="csv").values_list("email", flat=True)) == [
        "ana@example.org"
    ]


def test_uploading_the_same_list_twice_imports_each_visit_once(manager_client, upload):
    body = f"Ana,ana@example.org,,{when()},Riverside Surgery,,D1\n"
    upload(csv_file(body))
    manager_client.post(
        reverse("invitations:invitation_import_confirm", args=[InvitationImport.objects.get().pk])
    )
    upload(csv_file(body))
    second = InvitationImport.objects.latest("created_at")
    assert second.counts == {"already_imported": 1}
    assert Invitation.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"Ana,ana@example.org", b"Missing columns"),
        (b"first name,visit,location\nAna,2026-01-01 10:00,Riverside", b"Missing column: email or mobile"),
        (HEADER.encode(), b"no visits"),
        (b"", b"The submitted file is empty"),
        (
            (HEADER + "Zoë,zoe@example.org,,2026-01-01 10:00,Riverside Surgery,,E1\n").encode("utf-16"),
            b"not in UTF-8",
        ),
        (
            (HEADER + "José,jose@example.org,,2026-01-01 10:00,Riverside Surgery,,E1\n").encode("latin-1"),
            b"not in UTF-8",
        ),
        (b"PK\x03\x04 excel workbook", b"spreadsheet workbook"),
    ],
)
def test_an_unreadable_file_gets_a_clear_error_and_stores_nothing(upload, content, message):
    response = upload(SimpleUploadedFile("visits.csv", content, content_type="text/csv"))
    assert response.status_code == 400
    assert message in response.content
    assert not InvitationImport.objects.exists()
    assert not Invitation.objects.exists()


def test_a_huge_file_is_refused_before_it_is_read(upload, settings):
    settings.INVITATION_IMPORT_MAX_BYTES = 2048
    response = upload(csv_file(f"Ana,ana@example.org,,{when()},Riverside Surgery,,F1\n" * 100))
    assert response.status_code == 400
    assert b"larger than" in response.content
    assert not InvitationImport.objects.exists()


def test_too_many_rows_are_refused(upload, settings):
    settings.INVITATION_IMPORT_MAX_ROWS = 3
    response = upload(
        csv_file("".join(f"P{i},p{i}@example.org,,{when()},Riverside Surgery,,G{i}\n" for i in range(4)))
    )
    assert response.status_code == 400
    assert b"at most 3 per file" in response.content


def test_a_long_file_is_checked_and_imported_in_the_background_with_progress(
    manager_client, upload, settings, django_capture_on_commit_callbacks
):
    settings.INVITATION_IMPORT_INLINE_ROWS = 2
    body = "".join(f"P{i},p{i}@example.org,,{when()},Riverside Surgery,,H{i}\n" for i in range(5))
    with django_capture_on_commit_callbacks() as published:
        upload(csv_file(body))
    job = InvitationImport.objects.get()
    assert job.status == "validating"
    assert len(published) == 1  # the check went to a worker
    page = manager_client.get(reverse("invitations:invitation_import_detail", args=[job.pk]))
    assert b"hx-get" in page.content
    assert b"<progress" in page.content
    assert b"<script>" not in page.content  # no inline script: htmx from a static file, or a meta refresh

    assert invitation_import.import_validate(import_id=job.pk) == "validated"
    poll = manager_client.get(reverse("invitations:invitation_import_progress", args=[job.pk]))
    assert poll["HX-Refresh"] == "true"

    with django_capture_on_commit_callbacks() as published:
        manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    assert len(published) == 1
    assert InvitationImport.objects.get().status == "queued"
    assert invitation_import.import_run(import_id=job.pk) == "imported"
    assert invitation_import.import_run(import_id=job.pk) == "skipped"  # a duplicate task does nothing
    assert Invitation.objects.count() == 5


def test_an_import_that_fails_half_way_imports_nothing(manager_client, upload, settings, monkeypatch):
    settings.INVITATION_IMPORT_INLINE_ROWS = 0
    body = "".join(f"P{i},p{i}@example.org,,{when()},Riverside Surgery,,J{i}\n" for i in range(2500))
    upload(csv_file(body))
    job = InvitationImport.objects.get()
    invitation_import.import_validate(import_id=job.pk)
    invitation_import.import_confirm(job=job, now=timezone.now())

    real_bulk_create = InvitationMessage.objects.bulk_create
    calls = []

    def bulk_create_that_dies_on_the_third_batch(objs, **kwargs):
        calls.append(len(objs))
        if len(calls) == 3:
            raise ConnectionError("database went away")
        return real_bulk_create(objs, **kwargs)

    monkeypatch.setattr(InvitationMessage.objects, "bulk_create", bulk_create_that_dies_on_the_third_batch)
    assert invitation_import.import_run(import_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed"
    assert "Nothing was imported" in job.failure
    assert not Invitation.objects.exists()
    assert not InvitationMessage.objects.exists()


def test_the_sweep_resumes_an_import_a_broker_outage_left_waiting(
    upload, settings, time_machine, eager_tasks, django_capture_on_commit_callbacks
):
    settings.INVITATION_IMPORT_INLINE_ROWS = 0
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    upload(csv_file(f"Ana,ana@example.org,,{when()},Riverside Surgery,,K1\n"))
    job = InvitationImport.objects.get()
    time_machine.move_to(start + timedelta(minutes=5), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert invitations.invitations_sweep().imports == 1
    job.refresh_from_db()
    assert job.status == "validated"


def test_staff_cannot_upload_visit_lists(staff_client, survey):
    response = staff_client.post(
        reverse("invitations:invitation_import_upload"), {"survey": survey.pk, "file": csv_file("")}
    )
    assert response.status_code == 403
