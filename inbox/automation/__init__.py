"""Auto-replies and keyword rules: admins configure them, test them in a sandbox, then switch them on.

A separate Django app (label ``automation``) inside the inbox package so its migrations never collide with the
inbox app's. It imports ``signals.text`` (the one definition of "the same text") on purpose: keyword matching
must normalize exactly as the signals matcher does.
"""
