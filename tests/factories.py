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
            user.groups.add(Group.objects.get(name=Role(role).value))
        return user


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
