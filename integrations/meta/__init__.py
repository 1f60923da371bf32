"""Code shared by the Meta providers (WhatsApp Cloud API and Messenger Platform).

Both sign webhooks the same way (``X-Hub-Signature-256``), answer the same ``hub.*`` GET handshake and send
through the same Graph API with the same error envelope, so that code lives here once:

* :mod:`integrations.meta.webhooks`: signature check and handshake.
* :mod:`integrations.meta.payload`: typed, never-crashing access to webhook JSON.
* :mod:`integrations.meta.errors`: Graph error codes -> reasons agents understand.
* :mod:`integrations.meta.graph`: the Graph HTTP client on top of :mod:`switchboard.http`.
* :mod:`integrations.meta.adapter`: ``GraphAdapter``, the base class of both channel adapters.

Documentation: https://developers.facebook.com/docs/graph-api/webhooks/getting-started
"""
