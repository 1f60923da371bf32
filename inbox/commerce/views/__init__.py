"""Commerce pages: thin views over the services (write) and selectors (read)."""
