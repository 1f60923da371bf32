"""Orders and reservations managed from the conversation (issue 7).

A separate Django app inside the inbox package (label ``commerce``): its own models, migrations, services,
selectors, pages and API. It depends on ``inbox`` (conversations, permissions, message sending, the event bus);
``inbox`` does not import it.
"""
