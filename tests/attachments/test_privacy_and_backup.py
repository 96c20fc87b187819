"""Attachments are counted where the practice's data is: an access request lists them, an erasure
deletes them (files too), and a backup carries them beside the database dump."""

from __future__ import annotations

import tarfile

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from recovery import services
from recovery.models import FollowUp
from servicedesk.attachments import samples
from servicedesk.attachments.models import Attachment, attachment_storage
from servicedesk.privacy import person_counts, person_erase, person_export, person_find
from servicedesk.security import backup
from tests.factories import open_incident
from tests.security.test_backup import scratch_postgres  # noqa: F401 - a fixture


def photo_on_patients_incident(email: str = "ann@example.org") -> Attachment:
    incident = open_incident(patient_consented=True, patient_name="Ann", patient_email=email)
    entry = services.incident_note(
        incident=incident,
        by=None,
        body="Photo of the step",
        now=timezone.now(),
        attachment=samples.photo("step.jpg"),
    )
    return entry.attachment


@pytest.mark.django_db
def test_an_access_request_lists_the_photos_on_the_persons_incidents():
    attachment = photo_on_patients_incident()
    photo_on_patients_incident("someone.else@example.org")
    person = person_find(email="ann@example.org")
    assert person_counts(person)["photos and files on incidents"] == 1
    [row] = person_export(person)["photos and files on incidents"]
    assert (row["file_name"], row["sha256"]) == ("step.jpg", attachment.sha256)


@pytest.mark.django_db
def test_an_erasure_deletes_the_photo_rows_and_their_stored_files(django_capture_on_commit_callbacks):
    attachment = photo_on_patients_incident()
    other = photo_on_patients_incident("someone.else@example.org")
    names = [attachment.file.name, attachment.display.name, attachment.thumbnail.name]
    storage = attachment_storage()
    assert all(storage.exists(name) for name in names)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        person_erase(person=person_find(email="ann@example.org"), now=timezone.now())

    assert not Attachment.objects.filter(pk=attachment.pk).exists()
    assert not any(storage.exists(name) for name in names)
    assert FollowUp.objects.filter(body__contains="Photo of the step", attachment__isnull=True).count() == 1
    assert storage.exists(other.file.name)  # someone else's stays


@pytest.fixture
def attachments_folder(settings, tmp_path):
    folder = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(folder), "base_url": None}},
    }  # fmt: skip
    return folder


def test_a_backup_carries_the_attachment_files_and_a_restore_puts_them_back(
    postgres,
    transactional_db,
    attachments_folder,
    tmp_path,
    scratch_postgres,  # noqa: F811
):
    attachment = photo_on_patients_incident()
    dump = tmp_path / "backups" / "practice.dump"

    call_command("backup", output=dump)

    archive = backup.attachments_archive(dump)
    with tarfile.open(archive) as tar:
        assert f"attachments/{attachment.file.name}" in tar.getnames()
    assert oct(archive.stat().st_mode & 0o777) == "0o600"

    restored = tmp_path / "restored"
    backup.restore(source=dump, url=scratch_postgres, attachments_to=restored)
    assert (restored / attachment.file.name).read_bytes() == (
        attachments_folder / attachment.file.name
    ).read_bytes()
    assert (restored / attachment.thumbnail.name).is_file()
