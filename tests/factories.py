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


class UserCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MonitorUserCount

    value = 1
    created = factory.LazyFunction(timezone.now)


class OrderCountFactory(UserCountFactory):
    class Meta:
        model = models.MonitorOrderCount

    plan = "free"


class QueueLengthFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MonitorQueueLength

    value = 10
    created = factory.LazyFunction(timezone.now)


class RequestTimeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MonitorRequestTime

    value = 120.0
    created = factory.LazyFunction(timezone.now)
