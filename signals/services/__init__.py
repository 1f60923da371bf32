"""Services of the signals app, one domain a module: keywords, extractors, accounts and rules, the outbox
(what subscribers write), delivery (what tasks run)."""
