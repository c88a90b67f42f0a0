"""Settings for the test suite: PostgreSQL and Redis from the environment."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-key-not-for-real-data-5b1e8d24c7a9")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thrive_mapper")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from .base import *  # noqa: F403

# A fast hasher keeps sign-in fixtures cheap; it is never used outside tests.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Tasks run in-process unless a test asks for the real worker (tests/celery_worker.py),
# so a test that queues a task without a worker still sees it run.
CELERY_TASK_ALWAYS_EAGER = True

# Sent mail is kept in django.core.mail.outbox for the tests to read.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
