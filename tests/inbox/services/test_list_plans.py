"""The list's main filters are answered from an index, not by reading every conversation (issue 4).

A modest table (20,000 conversations over 8 channels, 4 teams, 10 agents), ANALYZEd, then PostgreSQL's own plan
for the page query the API runs (``selectors.conversation_rows``), under normal planner settings. At a million
conversations (bench/inbox.py) a sequential scan is what turns a 2 ms page into seconds.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox import selectors
from inbox.models import Role, Team
from tests.factories import OrganizationFactory, make_channel
from tests.inbox.factories import member

pytestmark = [pytest.mark.django_db, pytest.mark.services]

CONVERSATIONS = 20_000


@pytest.fixture
def world():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's")
    org = OrganizationFactory()
    channels = [make_channel(org, name=f"Channel {i}") for i in range(8)]
    teams = [Team.objects.create(organization=org, name=f"Team {i}") for i in range(4)]
    admin = member(org, Role.ADMIN)
    agents = [member(org, channels=channels[(i % 2) * 4 : (i % 2) * 4 + 4]) for i in range(10)]
    params = {
        "org": org.pk,
        "channels": [c.pk for c in channels],
        "teams": [t.pk for t in teams],
        "agents": [a.pk for a in agents],
        "n": CONVERSATIONS,
    }
    mix = "(hashint8(g * 8 + {salt}) & 2147483647)"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE plan_seed ON COMMIT DROP AS SELECT g, (%(channels)s::bigint[])[1 + g %% 8] AS channel"
            " FROM generate_series(1, %(n)s) g",
            params,
        )
        cursor.execute(
            "INSERT INTO inbox_contact (id, organization_id, name, phone, email, created_at)"
            " SELECT 900000000 + g, %(org)s, 'Customer ' || g, '', '', now() FROM plan_seed",
            params,
        )
        cursor.execute(
            "INSERT INTO inbox_contactidentity (id, contact_id, channel_id, external_id, display_name)"
            " SELECT 900000000 + g, 900000000 + g, channel, 'plan-' || g, '' FROM plan_seed",
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO inbox_conversation (organization_id, channel_id, contact_id, identity_id, thread_id, status,
                priority, assignee_id, team_id, last_message_at, last_message_preview, last_inbound_at,
                outbound_since_inbound, unread_count, last_inbound_message_id, tracking_id, ad_id, campaign_id,
                created_at)
            SELECT %(org)s, channel, 900000000 + g, 900000000 + g, '',
                (ARRAY['open','open','pending','snoozed','resolved','resolved','resolved','resolved','resolved',
                       'resolved'])[1 + {mix.format(salt=1)} %% 10],
                'none',
                CASE WHEN g %% 3 = 0 THEN NULL
                     ELSE (%(agents)s::int[])[1 + 2 * ({mix.format(salt=2)} %% 5) + ((g %% 8) / 4)] END,
                CASE WHEN {mix.format(salt=3)} %% 2 = 0 THEN (%(teams)s::bigint[])[1 + g %% 4] END,
                now() - g * interval '1 minute', '', now() - g * interval '1 minute', 0, 0, g, '', '', '', now()
            FROM plan_seed
            """,  # noqa: S608 (constants of this test)
            params,
        )
        for table in ("inbox_contact", "inbox_contactidentity", "inbox_conversation"):
            cursor.execute(f"ANALYZE {table}")
    return {"admin": admin, "agent": agents[0], "channel": channels[0], "team": teams[0]}


def plan_of(user, document, cursor=None) -> tuple[selectors.RowPage, str]:
    with CaptureQueriesContext(connection) as captured:
        page = selectors.conversation_rows(user=user, document=document, cursor=cursor)
    main = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
    with connection.cursor() as db:
        db.execute(f"EXPLAIN {main}")
        plan = "\n".join(row[0] for row in db.fetchall())
    return page, plan


@pytest.mark.parametrize(
    ("who", "document", "index"),
    [
        ("admin", {"status": ["open"]}, None),  # conv_org_status_recent or conv_org_recent: both fine
        ("agent", {"assignee": "me", "status": ["open", "pending"]}, "conv_assignee_active"),
        ("admin", {"assignee": "nobody", "status": ["open"]}, None),
        ("agent", {"status": ["open"], "channel": ["<channel>"]}, "conv_channel_status"),
        ("admin", {"status": ["open"], "team": "<team>"}, "conv_team_status"),
        ("agent", {"unread": True, "status": ["open"]}, None),
    ],
)
def test_a_list_page_reads_an_index_not_the_whole_table(world, who, document, index):
    document = {
        key: ([world["channel"].pk] if value == ["<channel>"] else world["team"].pk if value == "<team>" else value)
        for key, value in document.items()
    }
    page, plan = plan_of(world[who], document)
    assert len(page.rows) == selectors.PAGE_SIZE  # a full page: the filter matches enough rows to matter
    assert "Seq Scan on inbox_conversation" not in plan, plan
    if index:
        assert f"using {index} on inbox_conversation" in plan, plan

    _, next_plan = plan_of(world[who], document, cursor=page.next_cursor)
    assert "Seq Scan on inbox_conversation" not in next_plan, next_plan
