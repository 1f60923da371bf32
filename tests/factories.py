"""factory_boy factories for the inbox domain. Channels are made through the service, credentials included."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from inbox.models import Contact, ContactIdentity, Conversation, Membership, Message, Organization, Role


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Shop {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.AGENT


def make_channel(organization: Organization, kind: str = "sandbox", name: str = "Sandbox", **credentials: str):
    from integrations.services.channels import channel_create

    return channel_create(organization=organization, kind=kind, name=name, **credentials)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Customer {n}")


def make_conversation(channel, customer_id: str = "cust-1", name: str = "Ana", **fields) -> Conversation:
    contact = ContactFactory(organization=channel.organization, name=name)
    identity = ContactIdentity.objects.create(
        contact=contact, channel=channel, external_id=customer_id, display_name=name
    )
    fields.setdefault("last_inbound_at", timezone.now())
    return Conversation.objects.create(
        organization=channel.organization, channel=channel, contact=contact, identity=identity, **fields
    )


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    channel = factory.SelfAttribute("conversation.channel")
    direction = Message.Direction.INBOUND
    sender_type = Message.SenderType.CONTACT
    status = Message.Status.RECEIVED
    body = factory.Faker("sentence")
    external_id = factory.Sequence(lambda n: f"ext-{n}")
