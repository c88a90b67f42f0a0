"""factory_boy factories shared by every app's tests."""

import datetime

import factory
from django.utils import timezone

from accounts.models import User
from mapping.models import Area, Grouping, Offer, Organisation, Sector, Service, ServiceStatus
from sites.models import Membership, Role, Site

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    first_name = "Alex"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.django.Password(PASSWORD)


class SiteFactory(factory.django.DjangoModelFactory[Site]):
    class Meta:
        model = Site
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Locality {n}")
    slug = factory.Sequence(lambda n: f"locality-{n}")
    region = "London"


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    site = factory.SubFactory(SiteFactory)
    role = Role.COMMISSIONER


class AreaFactory(factory.django.DjangoModelFactory[Area]):
    class Meta:
        model = Area

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Area {n}")


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Provider {n}")
    sector = Sector.NHS


class ServiceFactory(factory.django.DjangoModelFactory[Service]):
    class Meta:
        model = Service

    site = factory.SubFactory(SiteFactory)
    organisation = factory.SubFactory(OrganisationFactory, site=factory.SelfAttribute("..site"))
    name = factory.Sequence(lambda n: f"Service {n:04d}")
    description = "Support for children and young people."
    sector = Sector.NHS
    min_age = 5
    max_age = 18
    annual_capacity = 200
    typical_wait_weeks = 4
    status = ServiceStatus.ACTIVE
    last_checked_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))


class OfferFactory(factory.django.DjangoModelFactory[Offer]):
    class Meta:
        model = Offer

    service = factory.SubFactory(ServiceFactory)
    grouping = factory.LazyFunction(lambda: Grouping.objects.get(code="getting-help"))
    description = "Evidence-based help."
    capacity_share = 50
