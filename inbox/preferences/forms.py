from __future__ import annotations

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The agents' zones first (TikTok's Instant Messaging Ads markets), then every other zone.
COMMON_ZONES = [
    "Asia/Jakarta",
    "Asia/Makassar",
    "Asia/Jayapura",
    "Asia/Ho_Chi_Minh",
    "Asia/Bangkok",
    "Asia/Kuala_Lumpur",
    "Asia/Manila",
    "Asia/Singapore",
    "UTC",
]


def _zone_choices() -> list[tuple[str, object]]:
    others = sorted(zoneinfo.available_timezones() - set(COMMON_ZONES))
    return [
        ("", _("Server time zone (%(zone)s)") % {"zone": settings.TIME_ZONE}),
        (_("Common"), [(z, z) for z in COMMON_ZONES]),
        (_("All time zones"), [(z, z) for z in others]),
    ]


class PreferenceForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Same as my browser"))] + [(code, name) for code, name in settings.LANGUAGES],
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False, choices=_zone_choices)
    notifications = forms.BooleanField(
        label=_("Show a browser notification for new messages"),
        required=False,
        help_text=_("For conversations assigned to you, or unassigned in your channels."),
    )
    sound = forms.BooleanField(label=_("Play a sound for new messages"), required=False)
