"""WSGI entry point of the local test identity provider."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "localidp.settings")

application = get_wsgi_application()
