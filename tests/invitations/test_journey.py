"""The whole journey: a visit list in, invitations out, an answer stops the reminder, a
non-responder gets exactly one reminder."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import Invitation, InvitationImport, Question
from feedback.tasks import invitations_sweep
from tests.factories import LocationFactory, QuestionFactory

pytestmark = pytest.mark.django_db


def test_from_the_visit_list_to_one_answer_and_exactly_one_reminder(
    manager_client, rules, survey, eager_tasks, mailoutbox, sms_outbox, time_machine, settings
):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    LocationFactory(name="Hillcrest Clinic")
    question = QuestionFactory(survey=survey, kind=Question.Kind.FFT, required=True, text="Overall?")
    out = StringIO()
    call_command("demo_visit_list", rows=3, stdout=out)
    lines = out.getvalue().splitlines()
    visit_list = "\n".join([lines[0], lines[1], lines[2]]) + "\n"  # two patients by email

    manager_client.post(
        reverse("invitations:invitation_import_upload"),
        {"survey": survey.pk, "file": SimpleUploadedFile("today.csv", visit_list.encode())},
    )
    job = InvitationImport.objects.get()
    assert job.status == "validated", job.issues
    manager_client.post(reverse("invitations:invitation_import_confirm", args=[job.pk]))
    assert Invitation.objects.count() == 2

    invitations_sweep()  # the worker sends what is due (visits were hours ago)
    assert len(mailoutbox) == 2
    links = [re.search(r"/f/[^/\s]+/", email.body).group(0) for email in mailoutbox]

    patient = Client()
    assert patient.get(links[0]).status_code == 200
    patient.post(links[0], {f"q{question.pk}": "good"})
    answered = Invitation.objects.get(status="completed")

    for day in range(1, rules.expiry_days + 2):
        time_machine.move_to(start + timedelta(days=day), tick=False)
        invitations_sweep()
    reminders = mailoutbox[2:]
    assert len(reminders) == 1
    assert reminders[0].subject.startswith("Reminder")
    assert reminders[0].to != [answered.email]
    assert sms_outbox == []
