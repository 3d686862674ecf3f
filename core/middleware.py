from django.contrib.auth.middleware import LoginRequiredMiddleware as _LoginRequired


class LoginRequiredMiddleware(_LoginRequired):
    """Every page needs a logged-in user, except the API (DRF authenticates it itself
    with sessions or tokens and answers 401/403) and views marked
    ``login_not_required`` (login, the X webhook, CSAT pages, tracked links)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
