"""WSGI entry point for plain HTTP (webhooks, pages, API) in the production process model."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "switchboard.settings")
application = get_wsgi_application()
