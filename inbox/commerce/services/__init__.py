"""Commerce services: write paths, one domain a module. Keyword-only, typed, atomic, events inside."""
