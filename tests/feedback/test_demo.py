import pytest
from django.core.management import call_command

from feedback.models import Answer, Response, Survey

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_three_surveys_with_realistic_responses_and_is_idempotent():
    call_command("seed_demo", "--force", verbosity=0)
    counts = (Survey.objects.count(), Response.objects.count(), Answer.objects.count())
    assert set(Survey.objects.values_list("slug", flat=True)) == {
        "after-your-visit",
        "waiting-room-kiosk",
        "staff-pulse",
    }
    assert Response.objects.negative().exists()
    assert Response.objects.filter(is_negative=False).exists()
    assert Response.objects.filter(themes__isnull=False).exists()
    assert Response.objects.filter(language="es").exists()
    assert not Response.objects.filter(consent_to_contact=False).exclude(contact_phone="").exists()
    call_command("seed_demo", "--force", verbosity=0)
    assert (Survey.objects.count(), Response.objects.count(), Answer.objects.count()) == counts


def test_seed_demo_tops_up_responses_for_benchmarks():
    call_command("seed_demo", "--force", "--responses", "1500", verbosity=0)
    assert Survey.objects.get(slug="after-your-visit").responses.count() == 1500
    call_command("seed_demo", "--force", "--responses", "1500", verbosity=0)
    assert Survey.objects.get(slug="after-your-visit").responses.count() == 1500
