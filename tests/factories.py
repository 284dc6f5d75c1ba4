"""factory_boy factories for users and data points."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from test_app import models


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("password")
    is_staff = False
    is_active = True


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True


class DataPointFactory(factory.django.DjangoModelFactory):
    """Record data points through the public ``add()``, as an application would."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, value, created, **dimensions):
        model_class.add(value, at=created, **dimensions)
        return model_class(value=value, created=created, **dimensions)


class UserCountFactory(DataPointFactory):
    class Meta:
        model = models.MonitorUserCount

    value = 1
    created = factory.LazyFunction(timezone.now)


class OrderCountFactory(UserCountFactory):
    class Meta:
        model = models.MonitorOrderCount

    plan = "free"


class QueueLengthFactory(DataPointFactory):
    class Meta:
        model = models.MonitorQueueLength

    value = 10
    created = factory.LazyFunction(timezone.now)


class RequestTimeFactory(DataPointFactory):
    class Meta:
        model = models.MonitorRequestTime

    value = 120.0
    created = factory.LazyFunction(timezone.now)
