"""Inbox benchmark: the list API's typical filters and search, on a seeded PostgreSQL database.

Seeds an organization with conversations and messages straight in SQL (``generate_series``, chunked, with a
progress bar), then measures in-process, for each filter, the server time of one list page as the API builds it
(``selectors.conversation_page``: every query of the page, Python included) and, next to it, the page's main
SQL statement run directly through psycopg in the same run (the floor). Also search (selective and common
terms) and the query count per page.

    .venv/bin/python bench/inbox.py                       # 100k conversations, 1M messages
    .venv/bin/python bench/inbox.py --conversations 1000000 --messages 10000000   # the issue's scale
    .venv/bin/python bench/inbox.py --reuse               # measure again without reseeding

Targets (issue 4): list p95 under 20 ms, search p95 under 50 ms for selective terms, constant query count.
Needs PostgreSQL on loopback; creates (and keeps, for --reuse) its own database ``switchboard_bench_inbox``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = "switchboard_bench_inbox"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
CHANNELS = 20
AGENTS = 40
LABELS = 12
CHUNK = 50_000
WORDS = (  # noqa: SIM905 (a sentence reads better than a list of 40 strings)
    "batik size stock price delivery order payment colour blue red green shirt dress sarong silk cotton "
    "available tomorrow today thanks please hello discount promo shipping jakarta bandung surabaya bali "
    "return exchange invoice transfer cash receipt weight parcel courier tracking address"
).split()
SELECTIVE = "zamrud"  # planted in about 1 message in 20,000


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "switchboard.settings",
        "LOG_LEVEL": "WARNING",
        "DB_CONN_MAX_AGE": "600",
    }


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 36
    filled = int(width * done / max(total, 1))
    rate = done / max(time.monotonic() - started, 1e-9)
    sys.stderr.write(f"\r  {label:<14} [{'#' * filled}{'.' * (width - filled)}] {done:>11,}/{total:,} {rate:,.0f}/s")
    sys.stderr.flush()
    if done >= total:
        sys.stderr.write("\n")


def create_database() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env(), check=True)


def seed(conversations: int, messages: int) -> None:
    """Everything in SQL: a Python loop would take hours at 10M messages."""
    import psycopg

    url = DATABASE_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        org = conn.execute(
            "INSERT INTO inbox_organization (name, slug, time_zone, created_at) VALUES ('Bench', 'bench', 'UTC', now())"
            " RETURNING id"
        ).fetchone()[0]
        kinds = ["whatsapp", "messenger", "tiktok", "sandbox"]
        channel_ids = [
            conn.execute(
                "INSERT INTO inbox_channel (organization_id, kind, name, status, account_id, created_at)"
                " VALUES (%s, %s, %s, 'active', %s, now()) RETURNING id",
                [org, kinds[i % 4], f"Channel {i}", f"bench-{i}"],
            ).fetchone()[0]
            for i in range(CHANNELS)
        ]
        users = []
        for i in range(AGENTS + 1):
            user = conn.execute(
                "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
                " is_active, date_joined) VALUES ('!', false, %s, '', '', '', false, true, now()) RETURNING id",
                [f"bench{i}"],
            ).fetchone()[0]
            role = "admin" if i == 0 else "agent"
            membership = conn.execute(
                "INSERT INTO inbox_membership (user_id, organization_id, role, is_active, created_at)"
                " VALUES (%s, %s, %s, true, now()) RETURNING id",
                [user, org, role],
            ).fetchone()[0]
            for channel in channel_ids[(i % 4) * 5 : (i % 4) * 5 + 5]:  # an agent works 5 of the 20 channels
                conn.execute(
                    "INSERT INTO inbox_membership_channels (membership_id, channel_id) VALUES (%s, %s)",
                    [membership, channel],
                )
            users.append(user)
        labels = [
            conn.execute(
                "INSERT INTO inbox_label (organization_id, name, colour, description, created_at)"
                " VALUES (%s, %s, '#0b63c9', '', now()) RETURNING id",
                [org, f"label-{i}"],
            ).fetchone()[0]
            for i in range(LABELS)
        ]
        conn.execute(
            "CREATE TEMP TABLE bench_channels AS SELECT unnest(%s::bigint[]) AS id, generate_series(0, %s) AS n",
            [channel_ids, CHANNELS - 1],
        )
        conn.execute("DROP INDEX IF EXISTS message_search_vector")  # rebuilt once at the end: much faster

        started = time.monotonic()
        for low in range(0, conversations, CHUNK):
            high = min(conversations, low + CHUNK) - 1
            conn.execute(
                "INSERT INTO inbox_contact (id, organization_id, name, phone, email, created_at)"
                " SELECT g, %(org)s, 'Customer ' || g, '+62812' || lpad(g::text, 7, '0'), '', now()"
                " FROM generate_series(%(low)s + 1, %(high)s + 1) g",
                {"org": org, "low": low, "high": high},
            )
            conn.execute(
                "INSERT INTO inbox_contactidentity (id, contact_id, channel_id, external_id, display_name)"
                " SELECT g, g, (SELECT id FROM bench_channels WHERE n = g %% %(channels)s), 'cust-' || g, ''"
                " FROM generate_series(%(low)s + 1, %(high)s + 1) g",
                {"low": low, "high": high, "channels": CHANNELS},
            )
            conn.execute(
                """
                INSERT INTO inbox_conversation (id, organization_id, channel_id, contact_id, identity_id, thread_id,
                    status, priority, assignee_id, team_id, last_message_at, last_message_preview, last_inbound_at,
                    outbound_since_inbound, unread_count, tracking_id, ad_id, campaign_id, created_at)
                SELECT g, %(org)s, (SELECT id FROM bench_channels WHERE n = g %% %(channels)s), g, g, '',
                    CASE WHEN g %% 10 < 2 THEN 'open' WHEN g %% 10 = 2 THEN 'pending'
                         WHEN g %% 10 = 3 THEN 'snoozed' ELSE 'resolved' END,
                    (ARRAY['none','none','none','low','medium','high','urgent'])[1 + g %% 7],
                    CASE WHEN g %% 3 = 0 THEN NULL ELSE (%(users)s::bigint[])[1 + g %% %(nusers)s] END, NULL,
                    now() - (g::float / %(total)s) * interval '365 days', 'last message', now() - interval '1 hour',
                    g %% 2, 0, CASE WHEN g %% 7 = 0 THEN 'trk-' || g ELSE '' END, '',
                    CASE WHEN g %% 7 = 0 THEN 'cmp-' || (g %% 40) ELSE '' END,
                    now() - (g::float / %(total)s) * interval '400 days'
                FROM generate_series(%(low)s + 1, %(high)s + 1) g
                """,
                {
                    "org": org,
                    "low": low,
                    "high": high,
                    "channels": CHANNELS,
                    "users": users,
                    "nusers": len(users),
                    "total": conversations,
                },
            )
            conn.execute(
                "INSERT INTO inbox_conversationlabel (conversation_id, label_id, added_at)"
                " SELECT g, (%(labels)s::bigint[])[1 + g %% %(nlabels)s], now() FROM generate_series(%(low)s + 1,"
                " %(high)s + 1) g WHERE g %% 3 = 0",
                {"labels": labels, "nlabels": LABELS, "low": low, "high": high},
            )
            progress("conversations", high + 1, conversations, started)

        started = time.monotonic()
        words = WORDS
        for low in range(0, messages, CHUNK * 4):
            high = min(messages, low + CHUNK * 4) - 1
            conn.execute(
                f"""
                INSERT INTO inbox_message (conversation_id, channel_id, direction, sender_type, kind, body,
                    attachments, metadata, external_id, reply_to_external_id, status, error_reason, send_attempts,
                    created_at)
                SELECT c, (SELECT channel_id FROM inbox_conversation WHERE id = c),
                    'inbound', 'contact', 'text',
                    w[1 + (g * 7) %% {len(words)}] || ' ' || w[1 + (g * 13) %% {len(words)}] || ' '
                      || w[1 + (g * 31) %% {len(words)}] || ' ' || w[1 + (g / 3) %% {len(words)}]
                      || CASE WHEN g %% 20000 = 7 THEN ' {SELECTIVE}' ELSE '' END,
                    '[]', '{{}}', 'm-' || g, '', 'received', '', 0,
                    now() - (c::float / %(conversations)s) * interval '365 days'
                FROM generate_series(%(low)s + 1, %(high)s + 1) g,
                     LATERAL (SELECT 1 + (g * 2654435761) %% %(conversations)s AS c) pick,
                     (SELECT %(words)s::text[] AS w) vocabulary
                """,  # noqa: S608 (constants of this script)
                {"low": low, "high": high, "conversations": conversations, "words": words},
            )
            progress("messages", high + 1, messages, started)
        conn.execute(
            "UPDATE inbox_conversation c SET last_inbound_message_id = m.id FROM"
            " (SELECT conversation_id, max(id) AS id FROM inbox_message GROUP BY conversation_id) m"
            " WHERE m.conversation_id = c.id"
        )
        for sequence_table in ("inbox_contact", "inbox_contactidentity", "inbox_conversation"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{sequence_table}', 'id'),"
                f" (SELECT max(id) FROM {sequence_table}))"
            )
        sys.stderr.write("  indexing search vectors…\n")
        conn.execute("CREATE INDEX message_search_vector ON inbox_message USING gin (search_vector)")
        conn.execute("VACUUM ANALYZE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.95)


def measure(runs: int) -> None:
    os.environ.update(env())
    import django

    django.setup()
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import search, selectors
    from inbox.models import Label
    from inbox.permissions import visible_conversations

    users = get_user_model().objects
    admin, agent = users.get(username="bench0"), users.get(username="bench1")
    label = Label.objects.order_by("id").first()
    cases = [
        ("open, newest", admin, {"status": ["open"]}),
        ("mine open+pending", agent, {"assignee": "me", "status": ["open", "pending"]}),
        ("agent: all", agent, {}),
        ("label any", admin, {"labels": {"any": [label.pk]}}),
        ("whatsapp open", admin, {"status": ["open"], "channel_kind": ["whatsapp"]}),
        ("unread for me", agent, {"unread": True, "status": ["open"]}),
        ("waiting > 30 min", admin, {"waiting_minutes": 30, "status": ["open"]}),
        ("campaign present", admin, {"campaign_id": True, "status": ["open", "pending"]}),
        ("OR group", admin, {"or": [{"priority": ["urgent"]}, {"labels": {"any": [label.pk]}}], "status": ["open"]}),
        ("text (selective)", admin, {"text": SELECTIVE}),
    ]
    raw = psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True)
    print(f"\n{'list page (50 rows)':<22} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}   {'raw SQL p50':>11} {'p95':>7}")
    for name, user, document in cases:
        with CaptureQueriesContext(connection) as captured:
            page = selectors.conversation_page(user=user, document=document)
        main_sql = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
        p50, p95 = timed(lambda u=user, d=document: selectors.conversation_page(user=u, document=d), runs)
        r50, r95 = timed(lambda s=main_sql: raw.execute(s).fetchall(), runs)
        print(f"{name:<22} {len(captured.captured_queries):>7} {p50:>8.1f} {p95:>8.1f}   {r50:>11.1f} {r95:>7.1f}")
        if page.next_cursor and name == "open, newest":
            cursor = page.next_cursor
            p50, p95 = timed(
                lambda c=cursor, d=document: selectors.conversation_page(user=admin, document=d, cursor=c), runs
            )
            print(f"{'  … page 2 (cursor)':<22} {'':>7} {p50:>8.1f} {p95:>8.1f}")

    print(f"\n{'search (20 results)':<22} {'':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for name, user, term in [
        ("selective term", admin, SELECTIVE),
        ("selective, agent", agent, SELECTIVE),
        ("common term", admin, "batik"),
        ("contact phone", admin, "0004242"),
    ]:
        visible = visible_conversations(user)
        if name == "contact phone":
            fn = lambda v=visible, t=term: search.search_contacts(conversations=v, text=t)  # noqa: E731
        else:
            fn = lambda v=visible, t=term: search.search_messages(conversations=v, text=t)  # noqa: E731
        p50, p95 = timed(fn, runs)
        print(f"{name:<22} {'':>7} {p50:>8.1f} {p95:>8.1f}")
    raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--reuse", action="store_true", help="measure the database seeded by a previous run")
    args = parser.parse_args()
    if not args.reuse:
        print(f"Seeding {args.conversations:,} conversations and {args.messages:,} messages into {DB_NAME}…")
        started = time.monotonic()
        create_database()
        seed(args.conversations, args.messages)
        print(f"Seeded in {time.monotonic() - started:.0f} s")
    measure(args.runs)


if __name__ == "__main__":
    main()
