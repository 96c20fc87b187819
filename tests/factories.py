"""factory_boy factories for every model. Tests build exactly the data they need."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from servicedesk.models import Location, Touchpoint, User
from servicedesk.roles import Role


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Site {n}")
    address = "1 High Street"


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    name = factory.Sequence(lambda n: f"Touchpoint {n}")
    channel = Touchpoint.Channel.IN_PERSON
    location = factory.SubFactory(LocationFactory)


class UserFactory(factory.django.DjangoModelFactory):
    """A team member; staff unless ``manager=True``; ``role=None`` for an account with no role."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    class Params:
        manager = False

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@practice.example")
    password = factory.django.Password("correct horse battery")
    role = factory.LazyAttribute(lambda u: Role.MANAGER if u.manager else Role.STAFF)

    @classmethod
    def _create(cls, model_class, *args, role=None, **kwargs):
        user = super()._create(model_class, *args, **kwargs)
        if role is not None:
            # get_or_create: transactional (browser) tests flush the groups the data migration made
            user.groups.add(Group.objects.get_or_create(name=Role(role).value)[0])
        return user

    @factory.post_generation
    def authenticator(self, create, extracted, **kwargs):
        """Managers get a confirmed authenticator app, as after enrolment (``authenticator=False``: none)."""
        managing = self.is_manager or self.is_site_manager or self.is_superuser
        wanted = managing if extracted is None else extracted
        if create and wanted:
            TOTPDeviceFactory(user=self)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator; ``tests.conftest.totp_code(device)`` gives its current code."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory, manager=True, authenticator=False)
    name = "Authenticator app"
    confirmed = True


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "security.AuditEvent"

    actor = factory.SubFactory(UserFactory, manager=True)
    actor_label = factory.LazyAttribute(lambda e: e.actor.username if e.actor else "")
    action = "viewed"
    target_type = "feedback.invitation"
    target_id = factory.Sequence(str)


# --- design ------------------------------------------------------------------------------


class PatientNeedProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "design.PatientNeedProfile"
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Need profile {n}")
    description = "Patients who need a little more from us."
    estimated_share = Decimal("10.0")


class PatientNeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "design.PatientNeed"

    profile = factory.SubFactory(PatientNeedProfileFactory)
    description = factory.Sequence(lambda n: f"Need {n}")
    priority = 1


class AccommodationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "design.Accommodation"

    profile = factory.SubFactory(PatientNeedProfileFactory)
    kind = "interpreter"


class ServiceGoalFactory(factory.django.DjangoModelFactory):
    """An active goal owned by a manager, reviewed in three months."""

    class Meta:
        model = "design.ServiceGoal"

    title = factory.Sequence(lambda n: f"Goal {n}")
    purpose = "Patients can rely on it."
    pillar = "design"
    owner = factory.SubFactory(UserFactory, manager=True)
    metric_key = "feedback.fft_positive_pct"
    comparator = "gte"
    target = Decimal("90")
    tolerance = Decimal("0")
    period = "rolling_30_days"
    review_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90))


class GoalAcknowledgementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "design.GoalAcknowledgement"

    goal = factory.SubFactory(ServiceGoalFactory)
    user = factory.SubFactory(UserFactory)
    version = factory.SelfAttribute("goal.version")
    acknowledged_at = factory.LazyFunction(timezone.now)


# --- feedback ---------------------------------------------------------------------------------


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Survey"

    title = factory.Sequence(lambda n: f"Survey {n}")
    title_es = factory.LazyAttribute(lambda s: f"Encuesta — {s.title}")
    slug = factory.Sequence(lambda n: f"survey-{n}")
    audience = "patient"
    is_anonymous = True
    languages = factory.LazyFunction(lambda: ["en", "es"])
    is_active = True


class QuestionFactory(factory.django.DjangoModelFactory):
    """An FFT question unless told otherwise; choice kinds get three choices."""

    class Meta:
        model = "feedback.Question"

    survey = factory.SubFactory(SurveyFactory)
    position = factory.Sequence(lambda n: n)
    kind = "fft"
    text = factory.Sequence(lambda n: f"Question {n}?")
    text_es = factory.LazyAttribute(lambda q: f"¿{q.text.rstrip('?')}?")
    choices = factory.LazyAttribute(
        lambda q: (
            [
                {"value": "always", "label": "Always", "label_es": "Siempre"},
                {"value": "usually", "label": "Usually", "label_es": "Normalmente"},
                {"value": "never", "label": "Never", "label_es": "Nunca"},
            ]
            if q.kind in ("single_choice", "multi_choice")
            else []
        )
    )


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Theme"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Theme {n}")
    keywords = "wait\nwaiting"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Invitation"

    survey = factory.SubFactory(SurveyFactory)
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    first_name = factory.Faker("first_name")
    visit_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    status = "sent"
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "feedback.Response"

    survey = factory.SubFactory(SurveyFactory)
    channel = "kiosk"
    submitted_at = factory.LazyFunction(timezone.now)


class AnswerFactory(factory.django.DjangoModelFactory):
    """An answer to an FFT question of the response's survey: "very good" unless told otherwise."""

    class Meta:
        model = "feedback.Answer"

    response = factory.SubFactory(ResponseFactory)
    submitted_at = factory.SelfAttribute("response.submitted_at")  # the partition key: the response's moment
    question = factory.LazyAttribute(lambda a: QuestionFactory(survey=a.response.survey))
    choice = "very_good"
    value = 5


# --- delivery ---------------------------------------------------------------------------------


class ChecklistTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delivery.ChecklistTemplate"

    title = factory.Sequence(lambda n: f"Checklist {n}")
    dimension = "place"
    location = factory.SubFactory(LocationFactory)
    touchpoint = factory.SubFactory(TouchpointFactory, location=factory.SelfAttribute("..location"))
    frequency = "daily"
    responsible_role = Role.STAFF


class ChecklistItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delivery.ChecklistItem"

    template = factory.SubFactory(ChecklistTemplateFactory)
    order = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Check number {n} is fine")
    is_critical = False
    note_required_on_fail = True


class ChecklistRunFactory(factory.django.DjangoModelFactory):
    """A run due later today (local time) for its template's location and role."""

    class Meta:
        model = "delivery.ChecklistRun"

    template = factory.SubFactory(ChecklistTemplateFactory)
    period_start = factory.LazyFunction(lambda: timezone.localdate())
    location = factory.SelfAttribute("template.location")
    responsible_role = factory.SelfAttribute("template.responsible_role")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=2))
    status = "due"


class ChecklistResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "delivery.ChecklistResult"

    run = factory.SubFactory(ChecklistRunFactory)
    item = factory.SubFactory(ChecklistItemFactory, template=factory.SelfAttribute("..run.template"))
    outcome = "pass"
    recorded_by = factory.SubFactory(UserFactory)
    recorded_at = factory.LazyFunction(timezone.now)


# --- recovery ---------------------------------------------------------------------------------


def open_incident(**kwargs):
    """An incident opened through the service (reference, clocks and timeline as in real life)."""
    from recovery import services

    defaults = {
        "description": "Patient waited 40 minutes past their appointment without being told why.",
        "category": "waiting",
        "severity": "medium",
        "touchpoint": None,
        "now": timezone.now(),
    }
    defaults.update(kwargs)
    if defaults["touchpoint"] is None:
        defaults["touchpoint"] = TouchpointFactory()
    return services.incident_open(**defaults)


class RecoveryPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recovery.RecoveryPlan"

    title = factory.Sequence(lambda n: f"Plan {n}")
    summary = "When the phone system is down."
    drill_every_days = 91
    next_drill_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class RecoveryStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "recovery.RecoveryStep"

    plan = factory.SubFactory(RecoveryPlanFactory)
    position = factory.Sequence(lambda n: n + 1)
    instruction = "Put the answerphone message on."
    owner = "Reception lead"
