"""``manage.py create_api_token <username>``: print a new personal API token for a script."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for a user (replacing their previous one) and print it once. "
        "Scripts send it as 'Authorization: Token <key>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: options["username"]})
        except User.DoesNotExist as exc:
            raise CommandError(f"No user named {options['username']!r}.") from exc
        if not user.is_active:
            raise CommandError(f"User {options['username']!r} is inactive.")
        # Only the key on stdout, so `KEY=$(manage.py create_api_token ana)` works; the note goes to stderr.
        self.stdout.write(api_token_create(user=user))
        self.stderr.write("Keep this token secret; it replaces any previous token of this user.")
