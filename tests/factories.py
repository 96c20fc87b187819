"""factory_boy factories for every model. Tests build exactly the data they need."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

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
