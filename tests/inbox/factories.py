"""Factories for the agent's workspace: labels, canned replies, saved views, notes."""

from __future__ import annotations

import factory

from inbox.models import CannedReply, Label, Role, SavedView
from tests.factories import MembershipFactory, OrganizationFactory


class LabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Label

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"label-{n}")
    colour = "#0b63c9"


class CannedReplyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CannedReply

    organization = factory.SubFactory(OrganizationFactory)
    short_code = factory.Sequence(lambda n: f"code-{n}")
    body = "Hi {{contact.name}}, this is {{agent.name}}."


class SavedViewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SavedView

    organization = factory.SubFactory(OrganizationFactory)
    owner = factory.SubFactory("tests.factories.UserFactory")
    name = factory.Sequence(lambda n: f"View {n}")
    filters = factory.LazyFunction(dict)


def member(organization, role=Role.AGENT, channels=(), username=None):
    """A user who is an active member of ``organization`` with access to ``channels``."""
    kwargs = {"organization": organization, "role": role}
    if username:
        kwargs["user__username"] = username
    membership = MembershipFactory(**kwargs)
    if channels:
        membership.channels.add(*channels)
    return membership.user
