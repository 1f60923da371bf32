"""Per-user preferences: language, time zone, browser notifications and sound (issue 10)."""
