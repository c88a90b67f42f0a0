"""Settings for a first look and for development on one machine.

DEBUG is on unless DEBUG=0 is set, and a development-only secret key is used when
SECRET_KEY is not set. Never use these settings to serve real data.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "local-development-only-key-not-for-real-data-3f9c2a71")

from .base import *  # noqa: F403
