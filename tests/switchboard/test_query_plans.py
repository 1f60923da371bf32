"""The hot queries use their intended indexes on a realistically sized database (PostgreSQL ``EXPLAIN``).

20,000 conversations (most in one organization, most resolved), 60,000 messages, 20,000 stored webhooks and
20,000 signal events are bulk-inserted once for the module and ``ANALYZE``d; each hot query's plan must read the
named index, never a sequential scan of a big table. The index each query relies on is listed in README
"Deployment" (Indexes). A query whose index is missing is marked xfail with the index it needs: the app that owns
the table adds it (inbox: list performance; integrations, signals: their owners).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from inbox import selectors
from inbox.models import Channel, Contact, ContactIdentity, Conversation, Membership, Message, Organization, Role
from integrations.models import InboundWebhook
from signals.models import AdvertiserAccount, SignalEvent
from tests.factories import UserFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db]

CONVERSATIONS = 20_000
BIG = 16_000  # in the organization whose inbox is explained; the rest spread over four others
STATUSES = ["resolved"] * 14 + ["open"] * 3 + ["pending"] * 2 + ["snoozed"]


def _bulk(model, rows):  # noqa: ANN001, ANN202
    return model.objects.bulk_create(rows, batch_size=2000)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    with django_db_blocker.unblock():
        try:
            yield _seed()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("TRUNCATE inbox_organization, integrations_inboundwebhook, auth_user CASCADE")


def _clone(model, template_pk: int, source: str, **exprs: str) -> None:  # noqa: ANN001
    """``INSERT ... SELECT``: one row per row of ``source``, copied from the template row ``t`` except ``exprs``.

    Server-side, so 100,000 rows take seconds (an ORM bulk_create of that size takes minutes on a busy machine).
    """
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key and not f.generated]
    select = ", ".join(exprs.get(column, f't."{column}"') for column in columns)
    table = model._meta.db_table
    quoted = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        joiner = "AND" if "WHERE" in source else "WHERE"
        # No parameters: the expressions use "%" as the modulo operator.
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {select} "
            f"FROM {table} t, {source} {joiner} t.id = {int(template_pk)}"
        )


STATUS_SQL = "(ARRAY['resolved','resolved','resolved','resolved','resolved','resolved','resolved','resolved'," \
    "'resolved','resolved','resolved','resolved','resolved','resolved','open','open','open','pending','pending'," \
    "'snoozed'])[1 + {n} % 20]"  # fmt: skip


def _seed() -> dict:
    now = timezone.now()
    organizations = _bulk(Organization, [Organization(name=f"Org {n}", slug=f"plans-{n}") for n in range(5)])
    channels = _bulk(
        Channel,
        [Channel(organization=o, kind="sandbox", name="S", account_id=f"acc-{o.pk}") for o in organizations],
    )
    admin = UserFactory()
    Membership.objects.create(user=admin, organization=organizations[0], role=Role.ADMIN)
    contact = Contact.objects.create(organization=organizations[0], name="template")
    identity = ContactIdentity.objects.create(contact=contact, channel=channels[0], external_id="template")
    template = Conversation.objects.create(
        organization=organizations[0], channel=channels[0], contact=contact, identity=identity, status="resolved"
    )
    message = Message.objects.create(
        conversation=template, channel=channels[0], direction="inbound", sender_type="contact", body="hello",
        status="received", external_id="template",
    )  # fmt: skip
    for index, (organization, channel) in enumerate(zip(organizations, channels, strict=True)):
        count = BIG if index == 0 else (CONVERSATIONS - BIG) // 4
        _clone(Contact, contact.pk, f"generate_series(1, {count}) g",
               organization_id=str(organization.pk), name=f"'C{index}-' || g")  # fmt: skip
        _clone(ContactIdentity, identity.pk, f"inbox_contact c WHERE c.organization_id = {organization.pk}",
               contact_id="c.id", channel_id=str(channel.pk), external_id="'x' || c.id")  # fmt: skip
        _clone(
            Conversation, template.pk, f"inbox_contactidentity i WHERE i.channel_id = {channel.pk}",
            organization_id=str(organization.pk), channel_id=str(channel.pk), contact_id="i.contact_id",
            identity_id="i.id", status=STATUS_SQL.format(n="i.id"),
            assignee_id=f"CASE WHEN i.id % 10 = 0 THEN {admin.pk} END",
            last_message_at="now() - i.id * interval '1 minute'",
        )  # fmt: skip
    _clone(
        Message, message.pk, "inbox_conversation c, generate_series(0, 2) k",
        conversation_id="c.id", channel_id="c.channel_id",
        direction="CASE WHEN k = 0 THEN 'outbound' ELSE 'inbound' END",
        sender_type="CASE WHEN k = 0 THEN 'agent' ELSE 'contact' END",
        status="CASE WHEN k > 0 THEN 'received' WHEN c.id % 2000 = 0 THEN 'queued' ELSE 'sent' END",
        external_id="'m' || c.id || '-' || k", created_at="now() - c.id * interval '1 minute' + k * interval '1 s'",
    )  # fmt: skip
    webhook = InboundWebhook.objects.create(provider="sandbox", channel=channels[0], body=b"{}", body_sha256="t")
    _clone(
        InboundWebhook, webhook.pk, f"generate_series(1, {CONVERSATIONS}) g",
        body_sha256="lpad(g::text, 64, '0')", status="CASE WHEN g <= 20 THEN 'received' ELSE 'processed' END",
        received_at="now() - g * interval '1 minute'",
    )  # fmt: skip
    account = AdvertiserAccount.objects.create(organization=organizations[0], name="Ads", event_set_id="ES")
    event = SignalEvent.objects.create(
        organization=organizations[0], advertiser_account=account, trigger="keyword_flag", event_name="Contact",
        event_id="template", event_time=now, status="delivered", delivered_at=now,
    )  # fmt: skip
    _clone(
        SignalEvent, event.pk, f"generate_series(1, {CONVERSATIONS}) g",
        event_id="'plan-' || g", status="CASE WHEN g <= 30 THEN 'pending' ELSE 'delivered' END",
        created_at="now() - g * interval '1 minute'",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"admin": admin, "organization": organizations[0], "channel": channels[0], "account": account,
            "conversation": Conversation.objects.filter(organization=organizations[0]).last()}  # fmt: skip


def plan_of(queryset) -> str:  # noqa: ANN001
    return queryset.explain()


def assert_index(plan: str, index: str, *big_tables: str) -> None:
    pattern = rf"(Index Scan|Index Only Scan|Bitmap Index Scan)( Backward)? (using|on) ({index})\b"
    assert re.search(pattern, plan), plan
    for table in big_tables:
        assert f"Seq Scan on {table} " not in plan, plan  # (the space: not inbox_conversationread, empty here)


STATUS_INDEXES = "conv_org_status_recent"
VIEW_INDEX = {
    "all": "conv_org_recent",
    "open": STATUS_INDEXES,
    "pending": STATUS_INDEXES,
    "snoozed": STATUS_INDEXES,
    "resolved": STATUS_INDEXES + "|conv_org_recent",  # most rows are resolved: walking by recency is cheaper
    "mine": "conv_assignee_active|conv_org_assignee_recent",
    "unassigned": "conv_org_assignee_recent|conv_org_status_recent",
}


@pytest.mark.parametrize("view", [v["key"] for v in selectors.BUILTIN_VIEWS])
def test_the_inbox_list_page_of_each_view_reads_its_index(world, view):  # noqa: ANN001
    document = next(v["filters"] for v in selectors.BUILTIN_VIEWS if v["key"] == view)
    admin = world["admin"]
    page = selectors.with_my_unread(selectors.conversation_queryset(user=admin, document=document), admin)
    plan = plan_of(page.order_by("-last_message_at", "-id")[: selectors.PAGE_SIZE + 1])
    assert_index(plan, VIEW_INDEX[view], "inbox_conversation", "inbox_message")
    # The unread count of each row reads the message thread index, not the messages table.
    assert_index(plan, "message_inbound_order|message_conversation_order", "inbox_message")


SEQUENTIAL_COUNT = (
    "The explained organization holds 80% of the table and most of it matches: PostgreSQL reads it sequentially "
    "up to the 1,000 cap, which is cheap here. Counting from an index only would need a covering index "
    "(organization, status) INCLUDE (id) on inbox_conversation (inbox app, owned by list performance)."
)


@pytest.mark.parametrize(
    "view",
    [
        pytest.param(v["key"], marks=pytest.mark.xfail(reason=SEQUENTIAL_COUNT, strict=False))
        if v["key"] in ("all", "resolved")
        else v["key"]
        for v in selectors.BUILTIN_VIEWS
    ],
)
def test_the_sidebar_count_of_each_view_reads_an_index(world, view):  # noqa: ANN001
    document = next(v["filters"] for v in selectors.BUILTIN_VIEWS if v["key"] == view)
    counted = selectors.conversation_queryset(user=world["admin"], document=document).order_by().values("id")[:1000]
    plan = plan_of(counted)
    assert "Seq Scan on inbox_conversation " not in plan, plan


def test_the_message_thread_page_reads_the_thread_index(world):  # noqa: ANN001
    messages = world["conversation"].messages.select_related("sender_user").order_by("-id")[:200]
    assert_index(plan_of(messages), r"message_conversation_order|inbox_message_conversation_id_\w+", "inbox_message")


def test_the_webhook_sweep_reads_pending_deliveries_by_index(world):  # noqa: ANN001
    cutoff = timezone.now() - timedelta(seconds=120)
    pending = InboundWebhook.objects.filter(status="received", received_at__lt=cutoff).values_list("id")[:1000]
    assert_index(plan_of(pending), "webhook_status_received", "integrations_inboundwebhook")


def test_the_outbound_sweep_reads_queued_replies_by_index(world):  # noqa: ANN001
    cutoff = timezone.now() - timedelta(seconds=120)
    queued = Message.objects.filter(status="queued", created_at__lt=cutoff).values_list("id")[:1000]
    assert_index(plan_of(queued), "message_status_created", "inbox_message")


def test_the_signal_outbox_claim_reads_only_due_rows(world):  # noqa: ANN001
    from signals.services.delivery import _CLAIM_SQL, _ROW

    sql = _CLAIM_SQL.format(table=SignalEvent._meta.db_table, columns=", ".join(_ROW))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, ["sending", now, world["account"].pk, "pending", "sending", now, 50])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert_index(plan, "signal_due_rows", "signals_signalevent")


@pytest.mark.xfail(
    strict=False,
    reason="At 20,000 rows, with a tenth to a quarter of them old, PostgreSQL expects LIMIT 500 to stop a "
    "sequential scan early; to re-check at a million rows (bench/inbox.py data) before adding an index.",
)
def test_retention_finds_old_rows_by_index(world):  # noqa: ANN001
    from inbox.lifecycle.services import _old_conversations, _old_signal_events, _old_webhooks, policy_for

    policy = policy_for(world["organization"])
    # About a tenth of the rows are old enough, as on a day's run (all of them would rightly be read in sequence).
    policy.resolved_conversations_days, policy.webhook_bodies_days, policy.signal_outbox_days = 10, 10, 10
    now = timezone.now()
    events = _old_signal_events(policy, now).order_by().values_list("pk")[:500]
    assert_index(plan_of(events), "signal_org_status", "signals_signalevent")
    webhooks = _old_webhooks(policy, now).order_by().values_list("pk")[:500]
    assert "Seq Scan on integrations_inboundwebhook " not in plan_of(webhooks)
    conversations = _old_conversations(policy, now).order_by().values_list("pk")[:500]
    plan = plan_of(conversations)
    if "Seq Scan on inbox_conversation " in plan:
        # Measured at 20,000 rows: with 3,000 matching, PostgreSQL expects the LIMIT 500 to stop a sequential scan
        # early. Not asserted here; to re-check at a million rows with bench/inbox.py's data.
        pytest.xfail("old resolved conversations: sequential scan with an early LIMIT at this size")
    assert_index(plan, "conv_org_status_recent", "inbox_conversation")
