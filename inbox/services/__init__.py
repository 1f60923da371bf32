"""Services write: typed, keyword-only functions, each in one transaction, side effects on commit."""
