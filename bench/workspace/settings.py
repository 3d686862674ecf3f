"""Production settings plus what the workspace bench needs: its URLconf (the bare
views beside the real ones) and a ``Server-Timing`` header with the time spent inside
Django, set by the outermost middleware."""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

ROOT_URLCONF = "bench.workspace.urls"
MIDDLEWARE = ["bench.workspace.timing.server_timing", *MIDDLEWARE]

# collectstatic goes to a throw-away folder of the bench (the manifest DEBUG=0 needs).
STATIC_ROOT = __import__("os").environ["BENCH_STATIC_ROOT"]
# Static files are not measured; the plain storage avoids the manifest's
# post-processing (which needs the vendored .map files).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
