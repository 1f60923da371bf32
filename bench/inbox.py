"""Inbox benchmark: the list API's typical filters and search, on a seeded PostgreSQL database.

Seeds an organization with conversations and messages straight in SQL (``generate_series``, chunked, with a
progress bar), then measures in-process, for each filter, the server time of one list page as the API builds it
(``selectors.conversation_rows``: every query of the page, Python included) and, next to it, the page's main
SQL statement run directly through psycopg in the same run (the floor: planned on every run, as Django's
client-side binding has PostgreSQL do; psycopg would otherwise prepare a statement run five times and hide the
planning). Also search (selective and common terms) and the query count per page, each with PASS/MISS against
its target.

    .venv/bin/python bench/inbox.py              # measure; seeds 1M conversations / 10M messages first if needed
    .venv/bin/python bench/inbox.py --reseed --conversations 100000 --messages 1000000   # a smaller seed
    .venv/bin/python bench/inbox.py --seed-only  # (re)seed without measuring

The database is kept: later runs only measure (about 2 minutes). A database made by an older seed is upgraded
in place (``upgrade_seed``) and the project's migrations are applied to it before measuring.

Targets (issue 4): list p95 under 20 ms, search p95 under 50 ms for selective terms, constant query count.
Needs PostgreSQL on loopback; creates (and keeps, for --reuse) the database ``BENCH_DATABASE_URL`` names
(``switchboard_bench_inbox`` by default; a smaller seed can go to a database of its own).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/switchboard_bench_inbox")
# The database this run seeds, drops and measures: always the one BENCH_DATABASE_URL names (a smaller seed in a
# database of its own must never drop the shared 1M one).
DB_NAME = DATABASE_URL.rsplit("/", 1)[-1].split("?", 1)[0]
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
SEED_NAME = "Bench (seed 2)"  # the organization's name tells which seed made the database (see upgrade_seed)


def _hash(var: str, salt: int) -> str:
    """A well-mixed non-negative int from a conversation id, so attributes do not follow one another."""
    return f"(hashint8({var} * 8 + {salt}) & 2147483647)"


# Seed 2. Status, assignee and team are drawn from hashes of the conversation id: seed 1 took the status from
# ``c % 10`` and the channel from ``c % 20``, so every channel held a single status, and assigned agents to
# channels they cannot see (the "mine" and "unread" lists then found nothing after scanning everything). An
# agent ``i`` works channels ``5*(i % 4) .. 5*(i % 4)+4``; a conversation on channel ``j`` goes to one of the ten
# agents of group ``j // 5``. Two thirds are assigned; 20 % open, 10 % pending, 10 % snoozed, 60 % resolved.
def status_sql(var: str) -> str:
    bucket = f"{_hash(var, 1)} %% 10"
    return (
        f"CASE WHEN {bucket} < 2 THEN 'open' WHEN {bucket} = 2 THEN 'pending' WHEN {bucket} = 3 THEN 'snoozed'"
        " ELSE 'resolved' END"
    )


def assignee_sql(var: str) -> str:
    group = f"({var} %% %(nch)s) / 5"
    return (
        f"CASE WHEN {var} %% 3 = 0 THEN NULL ELSE (%(users)s::bigint[])[1 + {group} + 4 * ({_hash(var, 2)} %% 10)] END"
    )


def team_sql(var: str) -> str:
    return f"CASE WHEN {_hash(var, 3)} %% 2 = 0 THEN (%(teams)s::bigint[])[1 + ({var} %% %(nch)s) / 5] END"


def label_sql(var: str) -> str:
    """The label of conversation ``var`` (one in three carries one): its link and its ``label_ids`` (migration 0006,
    which the seed writes itself, since the trigger is off while loading)."""
    return f"(%(labels)s::bigint[])[1 + ({var} / 3) %% %(nlabels)s]"


# Assignees have read their conversations, except 30 % of the open and pending ones (three messages behind).
READS_SQL = f"""
    INSERT INTO inbox_conversationread (user_id, conversation_id, last_read_message_id, read_at)
    SELECT assignee_id, id, CASE WHEN status IN ('open', 'pending') AND {_hash("id", 4)} %% 10 < 3
                                 THEN last_inbound_message_id - 3 ELSE last_inbound_message_id END, now()
    FROM inbox_conversation WHERE id BETWEEN %(low)s AND %(high)s AND assignee_id IS NOT NULL
"""


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


def create_teams(conn: Any, org: int) -> list[int]:
    """One team per group of five channels."""
    return [
        conn.execute(
            "INSERT INTO inbox_team (organization_id, name) VALUES (%s, %s) RETURNING id", [org, f"Team {g}"]
        ).fetchone()[0]
        for g in range(CHANNELS // 5)
    ]


def seeded_state() -> str | None:
    """The seeding organization's name (``SEED_NAME`` when current), or None when there is nothing to reuse."""
    import psycopg

    try:
        with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), connect_timeout=5) as conn:
            row = conn.execute("SELECT name FROM inbox_organization WHERE slug = 'bench'").fetchone()
            return row[0] if row else None
    except psycopg.Error:  # no such database, or not migrated
        return None


def upgrade_seed() -> None:
    """Rewrite a seed-1 database as seed 2 in place (minutes, instead of 20 for a reseed).

    Only conversations change (status, assignee, team) and read states are added; channels, contacts and the
    10M messages stay as they are, since the seed-2 formulas keep each conversation's channel.
    """
    import psycopg

    with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        org = conn.execute("SELECT id FROM inbox_organization WHERE slug = 'bench'").fetchone()[0]
        channels = [
            r[0] for r in conn.execute("SELECT id FROM inbox_channel WHERE organization_id = %s ORDER BY id", [org])
        ]
        users = [r[0] for r in conn.execute("SELECT id FROM auth_user WHERE username LIKE 'bench%%' ORDER BY id")]
        teams = [r[0] for r in conn.execute("SELECT id FROM inbox_team WHERE organization_id = %s ORDER BY id", [org])]
        teams = teams or create_teams(conn, org)
        total = conn.execute("SELECT max(id) FROM inbox_conversation").fetchone()[0]
        params = {"nch": len(channels), "users": users, "teams": teams}
        conn.execute("DELETE FROM inbox_conversationread")
        started = time.monotonic()
        for low in range(0, total, CHUNK):
            chunk = {**params, "low": low + 1, "high": min(total, low + CHUNK)}
            conn.execute(
                f"UPDATE inbox_conversation SET status = {status_sql('id')}, assignee_id = {assignee_sql('id')},"
                f" team_id = {team_sql('id')} WHERE id BETWEEN %(low)s AND %(high)s",
                chunk,
            )
            conn.execute(READS_SQL, chunk)
            progress("upgrade", chunk["high"], total, started)
        conn.execute("UPDATE inbox_organization SET name = %s WHERE id = %s", [SEED_NAME, org])
        sys.stderr.write("  VACUUM ANALYZE…\n")
        conn.execute("VACUUM ANALYZE inbox_conversation")
        conn.execute("VACUUM ANALYZE inbox_conversationread")
        conn.execute("VACUUM ANALYZE inbox_team")


def seed(conversations: int, messages: int) -> None:
    """Everything in SQL (``generate_series``): a Python loop would take hours at 10M messages.

    Message ids are computed, not drawn from the sequence: conversation ``c`` owns ids ``(c-1)*k+1 .. c*k``
    (``k`` messages each), so its last message, preview and unread marker are known while the conversation row
    is written, and no 10M-row aggregate is needed afterwards. Secondary indexes and foreign-key triggers are
    off while loading and rebuilt once at the end (``session_replication_role``: the generated rows are
    consistent by construction; the constraints themselves stay declared).
    """
    import psycopg

    per = max(1, messages // conversations)
    messages = per * conversations
    url = DATABASE_URL.replace("postgres://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET session_replication_role = replica")
        org = conn.execute(
            "INSERT INTO inbox_organization (name, slug, time_zone, created_at) VALUES (%s, 'bench', 'UTC', now())"
            " RETURNING id",
            [SEED_NAME],
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
        teams = create_teams(conn, org)
        labels = [
            conn.execute(
                "INSERT INTO inbox_label (organization_id, name, colour, description, created_at)"
                " VALUES (%s, %s, '#0b63c9', '', now()) RETURNING id",
                [org, f"label-{i}"],
            ).fetchone()[0]
            for i in range(LABELS)
        ]
        big = (
            "inbox_contact",
            "inbox_contactidentity",
            "inbox_conversation",
            "inbox_conversationlabel",
            "inbox_message",
        )
        rebuild = [
            (name, definition)
            for name, definition in conn.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS"
                " (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [list(big)],
            ).fetchall()
        ]
        for name, _definition in rebuild:
            conn.execute(f'DROP INDEX "{name}"')

        # body(g): four words picked from g, plus the selective term in about 1 message in 20,000.
        body = (
            "w[1 + (g * 7) %% {n}] || ' ' || w[1 + (g * 13) %% {n}] || ' ' || w[1 + (g * 31) %% {n}] || ' '"
            " || w[1 + (g / 3) %% {n}] || CASE WHEN g %% 20000 = 7 THEN ' {term}' ELSE '' END"
        ).format(n=len(WORDS), term=SELECTIVE)
        # Conversation c's activity: spread over a year, newest first for small c; its k-th message a minute apart.
        params = {
            "org": org,
            "channels": channel_ids,
            "nch": CHANNELS,
            "users": users,
            "teams": teams,
            "labels": labels,
            "nlabels": LABELS,
            "total": conversations,
            "per": per,
            "w": list(WORDS),
            "now": datetime.now(UTC),
        }
        started = time.monotonic()
        for low in range(0, conversations, CHUNK):
            high = min(conversations, low + CHUNK)
            chunk = {**params, "low": low + 1, "high": high}
            conn.execute(
                "INSERT INTO inbox_contact (id, organization_id, name, phone, email, created_at)"
                " SELECT g, %(org)s, 'Customer ' || g, '+62812' || lpad(g::text, 7, '0'), '', now()"
                " FROM generate_series(%(low)s::bigint, %(high)s::bigint) g",
                chunk,
            )
            conn.execute(
                "INSERT INTO inbox_contactidentity (id, contact_id, channel_id, external_id, display_name)"
                " SELECT g, g, (%(channels)s::bigint[])[1 + g %% %(nch)s], 'cust-' || g, ''"
                " FROM generate_series(%(low)s::bigint, %(high)s::bigint) g",
                chunk,
            )
            conn.execute(
                f"""
                INSERT INTO inbox_conversation (id, organization_id, channel_id, contact_id, identity_id, thread_id,
                    status, priority, assignee_id, team_id, last_message_at, last_message_preview, last_inbound_at,
                    outbound_since_inbound, unread_count, last_inbound_message_id, tracking_id, ad_id, campaign_id,
                    created_at, label_ids)
                SELECT c, %(org)s, (%(channels)s::bigint[])[1 + c %% %(nch)s], c, c, '',
                    {status_sql("c")},
                    (ARRAY['none','none','none','low','medium','high','urgent'])[1 + c %% 7],
                    {assignee_sql("c")}, {team_sql("c")},
                    t.last, left({body}, 160), t.last,
                    0, 1, g, CASE WHEN c %% 7 = 0 THEN 'trk-' || c ELSE '' END, '',
                    CASE WHEN c %% 7 = 0 THEN 'cmp-' || (c %% 40) ELSE '' END, t.at,
                    CASE WHEN c %% 3 = 0 THEN ARRAY[{label_sql("c")}] ELSE '{{}}'::bigint[] END
                FROM generate_series(%(low)s::bigint, %(high)s::bigint) c,
                     LATERAL (SELECT c * %(per)s AS g,
                                     %(now)s::timestamptz - (c::float / %(total)s) * interval '365 days' AS at,
                                     %(now)s::timestamptz - (c::float / %(total)s) * interval '365 days'
                                       + (%(per)s - 1) * interval '1 minute' AS last) t,
                     (SELECT %(w)s::text[] AS w) vocabulary
                """,  # noqa: S608 (constants of this script)
                chunk,
            )
            conn.execute(
                "INSERT INTO inbox_conversationlabel (conversation_id, label_id, added_at)"
                f" SELECT c, {label_sql('c')}, now()"
                " FROM generate_series(%(low)s::bigint, %(high)s::bigint) c WHERE c %% 3 = 0",
                chunk,
            )
            conn.execute(READS_SQL, chunk)
            progress("conversations", high, conversations, started)

        started = time.monotonic()
        step = max(1, CHUNK * 4 // per)  # conversations per statement
        for low in range(0, conversations, step):
            high = min(conversations, low + step)
            conn.execute(
                f"""
                INSERT INTO inbox_message (id, conversation_id, channel_id, direction, sender_type, kind, body,
                    attachments, metadata, external_id, reply_to_external_id, status, error_reason, send_attempts,
                    created_at)
                SELECT g, c, (%(channels)s::bigint[])[1 + c %% %(nch)s], 'inbound', 'contact', 'text', {body},
                    '[]', '{{}}', 'm-' || g, '', 'received', '', 0,
                    %(now)s::timestamptz - (c::float / %(total)s) * interval '365 days' + k * interval '1 minute'
                FROM generate_series(%(low)s::bigint, %(high)s::bigint) c, generate_series(0, %(per)s::int - 1) k,
                     LATERAL (SELECT (c - 1) * %(per)s + k + 1 AS g) ids,
                     (SELECT %(w)s::text[] AS w) vocabulary
                """,  # noqa: S608 (constants of this script)
                {**params, "low": low + 1, "high": high},
            )
            progress("messages", high * per, messages, started)

        conn.execute("SET session_replication_role = DEFAULT")
        for table in ("inbox_contact", "inbox_contactidentity", "inbox_conversation", "inbox_message"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        started = time.monotonic()
        for done, (_name, definition) in enumerate(rebuild, 1):
            conn.execute(definition)
            progress("indexes", done, len(rebuild), started)
        sys.stderr.write("  VACUUM ANALYZE…\n")
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
    """Server time of the list API's rows and of search, each next to its main SQL run raw; PASS/MISS per target."""
    os.environ.update(env())
    import django

    django.setup()
    import psycopg
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inbox import permissions, search, selectors
    from inbox.models import Channel, Label, Team

    users = get_user_model().objects
    admin, agent = users.get(username="bench0"), users.get(username="bench1")
    label = Label.objects.order_by("id").first()
    team = Team.objects.order_by("id").first()
    channel = Channel.objects.filter(pk__in=permissions.visible_channel_ids(agent)).order_by("id").first()
    cases = [
        ("all open, newest", admin, {"status": ["open"]}),
        ("mine open+pending", agent, {"assignee": "me", "status": ["open", "pending"]}),
        ("unassigned open", admin, {"assignee": "nobody", "status": ["open"]}),
        ("agent: all", agent, {}),
        ("label any", admin, {"labels": {"any": [label.pk]}}),
        ("channel open", agent, {"status": ["open"], "channel": [channel.pk]}),
        ("team open", admin, {"status": ["open"], "team": team.pk}),
        ("whatsapp open", admin, {"status": ["open"], "channel_kind": ["whatsapp"]}),
        ("unread for me", agent, {"unread": True, "status": ["open"]}),
        ("waiting > 30 min", admin, {"waiting_minutes": 30, "status": ["open"]}),
        ("campaign present", admin, {"campaign_id": True, "status": ["open", "pending"]}),
        ("OR group", admin, {"or": [{"priority": ["urgent"]}, {"labels": {"any": [label.pk]}}], "status": ["open"]}),
    ]
    raw = psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://"), autocommit=True)
    worst_list, worst_search, query_counts = 0.0, 0.0, set()
    header = f"{'queries':>7} {'rows':>4} {'p50 ms':>7} {'p95 ms':>7}   {'raw p50':>7} {'raw p95':>7}  target"
    print(f"\n{'list page (50 rows)':<24} {header}")
    for name, user, document in cases:
        first = selectors.conversation_rows(user=user, document=document)
        pages = [("", None)] + ([("  … next page (cursor)", first.next_cursor)] if first.next_cursor else [])
        for suffix, cursor in pages:
            with CaptureQueriesContext(connection) as captured:
                page = selectors.conversation_rows(user=user, document=document, cursor=cursor)
            main_sql = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
            p50, p95 = timed(
                lambda u=user, d=document, c=cursor: selectors.conversation_rows(user=u, document=d, cursor=c), runs
            )
            r50, r95 = timed(lambda s=main_sql: raw.execute(s, prepare=False).fetchall(), runs)
            worst_list = max(worst_list, p95)
            query_counts.add(len(captured.captured_queries))
            label_text = suffix or name
            print(
                f"{label_text:<24} {len(captured.captured_queries):>7} {len(page.rows):>4} {p50:>7.1f} {p95:>7.1f}"
                f"   {r50:>7.1f} {r95:>7.1f}  {'PASS' if p95 < 20 else 'MISS'}"
            )

    print(f"\n{'search (20 results)':<24} {header}")
    selective = [
        ("selective term", admin, SELECTIVE, "messages"),
        ("selective, agent", users.get(username="bench4"), SELECTIVE, "messages"),  # works the planted channel
        ("contact phone", admin, "0004242", "contacts"),
        ("contact name", admin, "Customer 424242", "contacts"),
    ]
    for name, user, term, kind in [*selective, ("common term (no target)", admin, "batik", "messages")]:
        visible = permissions.visible_conversations(user)
        fn = search.search_messages if kind == "messages" else search.search_contacts
        with CaptureQueriesContext(connection) as captured:
            found = fn(conversations=visible, text=term)
        main_sql = max(captured.captured_queries, key=lambda q: len(q["sql"]))["sql"]
        p50, p95 = timed(lambda v=visible, t=term, f=fn: f(conversations=v, text=t), runs)
        r50, r95 = timed(lambda s=main_sql: raw.execute(s, prepare=False).fetchall(), runs)
        verdict = "-"
        if "no target" not in name:
            worst_search = max(worst_search, p95)
            verdict = "PASS" if p95 < 50 else "MISS"
        print(
            f"{name:<24} {len(captured.captured_queries):>7} {len(found):>4} {p50:>7.1f} {p95:>7.1f}"
            f"   {r50:>7.1f} {r95:>7.1f}  {verdict}"
        )
    raw.close()

    print("\nTargets (issue 4):")
    print(f"  {'PASS' if worst_list < 20 else 'MISS'}  list p95 < 20 ms: worst {worst_list:.1f} ms")
    print(
        f"  {'PASS' if worst_search < 50 else 'MISS'}  search p95 < 50 ms (selective terms):"
        f" worst {worst_search:.1f} ms"
    )
    print(
        f"  {'PASS' if len(query_counts) == 1 else 'MISS'}  constant query count per list page: {sorted(query_counts)}"
    )
    print(f"  load average now: {os.getloadavg()[0]:.1f} (figures are only comparable on an idle machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reseed", action="store_true", help="drop the database and seed again (20+ minutes)")
    parser.add_argument("--reuse", action="store_true", help="only measure; fail if the database is not seeded")
    parser.add_argument("--seed-only", action="store_true", help="seed (dropping the old database), do not measure")
    args = parser.parse_args()
    state = None if args.reseed or args.seed_only else seeded_state()
    if state is None and args.reuse:
        parser.error(f"{DB_NAME} is not seeded: run without --reuse (or with --seed-only) first")
    if state is None:
        print(f"Seeding {args.conversations:,} conversations and {args.messages:,} messages into {DB_NAME}…")
        started = time.monotonic()
        create_database()
        seed(args.conversations, args.messages)
        print(f"Seeded in {time.monotonic() - started:.0f} s")
        if args.seed_only:
            return
    else:
        if state != SEED_NAME:
            print(f"{DB_NAME} was seeded by an older version of this script: upgrading it in place…")
            started = time.monotonic()
            upgrade_seed()
            print(f"Upgraded in {time.monotonic() - started:.0f} s")
        # New inbox index migrations apply to the kept database too (built concurrently on PostgreSQL). Only
        # inbox's: the bench measures nothing else, and other apps' migrations need not run on this database.
        subprocess.run([sys.executable, "manage.py", "migrate", "inbox", "-v", "0"], cwd=ROOT, env=env(), check=True)
    measure(args.runs)


if __name__ == "__main__":
    main()
