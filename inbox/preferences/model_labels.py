"""Labels defined in modules this app may not edit (inbox/models.py choices, inbox/selectors.py view names).

``gettext_noop`` puts them in the catalogue; templates translate them at render time with ``{% translate label %}``.
The lasting fix is ``gettext_lazy`` on those ``TextChoices`` labels (asked of the inbox owner); until then this
list keeps the agents' status, priority and view names translated.
"""

from django.utils.translation import gettext_noop

MODEL_LABELS = [
    # Conversation.Status and built-in views (inbox.selectors.BUILTIN_VIEWS)
    gettext_noop("Open"),
    gettext_noop("Pending"),
    gettext_noop("Snoozed"),
    gettext_noop("Resolved"),
    gettext_noop("Mine"),
    gettext_noop("Unassigned"),
    gettext_noop("All"),
    # Conversation.Priority
    gettext_noop("None"),
    gettext_noop("Low"),
    gettext_noop("Medium"),
    gettext_noop("High"),
    gettext_noop("Urgent"),
    # Message.Status
    gettext_noop("Received"),
    gettext_noop("Queued"),
    gettext_noop("Sent"),
    gettext_noop("Delivered"),
    gettext_noop("Read"),
    gettext_noop("Failed"),
    # Channel.Kind (only the sandbox is a word; provider names are brands) and Channel.Status
    gettext_noop("Sandbox"),
    gettext_noop("Active"),
    gettext_noop("Needs reauthorization"),
    gettext_noop("Disabled"),
    # Role
    gettext_noop("Owner"),
    gettext_noop("Admin"),
    gettext_noop("Supervisor"),
    gettext_noop("Agent"),
]
