"""Reading and changing a user's preferences (services write, selectors read: both small enough for one module)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from inbox.preferences.models import UserPreference, validate_time_zone

_UNSET = object()


def preference_get(*, user: AbstractBaseUser) -> UserPreference:
    """The user's preferences; an unsaved row with the defaults when they never changed any."""
    if not user.is_authenticated:
        return UserPreference()
    return UserPreference.objects.filter(user=user).first() or UserPreference(user=user)


@transaction.atomic
def preference_update(
    *,
    user: AbstractBaseUser,
    language: str | object = _UNSET,
    time_zone: str | object = _UNSET,
    notifications: bool | object = _UNSET,
    sound: bool | object = _UNSET,
) -> UserPreference:
    """Store the given preferences (others unchanged). ``ValidationError`` for an unknown language or zone."""
    if not user.is_authenticated:
        raise ValidationError(_("Log in to save your preferences."))
    preference, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
    if language is not _UNSET:
        if language and language not in dict(settings.LANGUAGES):
            raise ValidationError(_("Switchboard does not speak this language yet."))
        preference.language = language
    if time_zone is not _UNSET:
        validate_time_zone(time_zone)
        preference.time_zone = time_zone
    if notifications is not _UNSET:
        preference.notifications = bool(notifications)
    if sound is not _UNSET:
        preference.sound = bool(sound)
    preference.save()
    return preference
