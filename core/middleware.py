"""Project middleware: login required by default, and no caching of personal data."""

from django.contrib.auth.middleware import LoginRequiredMiddleware as _LoginRequired


class LoginRequiredMiddleware(_LoginRequired):
    """Every page needs a logged-in user, except the API (DRF authenticates it itself
    with sessions or tokens and answers 401/403) and views marked
    ``login_not_required`` (login, the X webhook, CSAT pages, tracked links)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


#: Responses that may carry personal data: pages, exports and API answers.
PERSONAL_TYPES = ("text/html", "text/csv", "application/json", "application/vnd.oai.openapi")


class NoStoreMiddleware:
    """``Cache-Control: private, no-store`` on every page, CSV export and API answer
    that does not set its own caching, so no shared proxy or browser cache keeps a
    contact's data (static files are served before this, by WhiteNoise, with theirs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        if content_type.startswith(PERSONAL_TYPES) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response
