"""Test overrides: PostgreSQL and Redis, fast hashing, Celery eager (a test that needs a
real worker starts one)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/momento")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from config.settings import *  # noqa: F403
from config.settings import CACHES, REST_FRAMEWORK, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = "cache+memory://"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "anon": "1000/min",
    "user": "100000/min",
    "integration": "100000/min",
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MOMENTO_ALLOW_PRIVATE_NETWORKS = True  # the local peers listen on 127.0.0.1
LOGGING = {"version": 1, "disable_existing_loggers": False}
# pytest-xdist workers share Redis: keep their cache keys (locks, throttles) apart.
CACHES["default"]["KEY_PREFIX"] = os.environ.get("PYTEST_XDIST_WORKER", "main")
