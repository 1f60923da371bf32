"""Services write: keyword-only, typed, one transaction each, side effects on commit."""
