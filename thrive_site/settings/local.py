"""Settings for a first look and for development on one machine.

DEBUG is on unless DEBUG=0 is set, and a development-only secret key is used when
SECRET_KEY is not set. Never use these settings to serve real data.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "local-development-only-key-not-for-real-data-3f9c2a71")
# Password reset emails are printed where the server runs, so the demo needs no mail server.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")

from .base import *  # noqa: F403
