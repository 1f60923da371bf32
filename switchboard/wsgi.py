"""WSGI entry point for plain HTTP (webhooks, pages, API) in the production process model.

Provider webhook POSTs are answered by ``integrations.ingress.WebhookIngress`` ahead of Django's request handling
(issue 9); every other request, and any webhook request out of the ordinary, goes to Django unchanged.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
django_application = get_wsgi_application()

from integrations.ingress import WebhookIngress  # noqa: E402  (needs the settings and apps loaded above)

application = WebhookIngress(django_application)
