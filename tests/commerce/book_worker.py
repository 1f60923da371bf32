"""A separate process that tries to book one time, started several at once by test_concurrency.py.

Usage: python -m tests.commerce.book_worker <mode: service|raw> <user id> <conversation id> <resource id>
<starts_at ISO>. Prints READY once set up and connected, waits for a line on stdin (the starting gun, given to
every process at once), then prints WON or LOST <reason>.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, connection

    from inbox.commerce.models import Reservation, Resource
    from inbox.commerce.services.reservations import reservation_hold
    from inbox.models import Conversation

    mode, user_id, conversation_id, resource_id, starts_at = sys.argv[1:6]
    user = get_user_model().objects.get(pk=user_id)
    conversation = Conversation.objects.get(pk=conversation_id)
    resource = Resource.objects.get(pk=resource_id)
    when = datetime.fromisoformat(starts_at)
    connection.ensure_connection()
    print("READY", flush=True)
    sys.stdin.readline()  # everyone starts together
    try:
        if mode == "service":
            reservation_hold(user=user, conversation=conversation, resource=resource, starts_at=when)
        else:  # no lock, no check: only the database constraint stands in the way
            Reservation.objects.create(
                organization_id=resource.organization_id, resource=resource, conversation=conversation,
                contact_id=conversation.contact_id, channel_id=conversation.channel_id, starts_at=when,
                ends_at=when + timedelta(hours=1), blocked_until=when + timedelta(hours=1), status="confirmed",
            )
    except (ValidationError, IntegrityError) as exc:
        print("LOST", str(exc).splitlines()[0], flush=True)
        return
    print("WON", flush=True)


if __name__ == "__main__":
    main()
