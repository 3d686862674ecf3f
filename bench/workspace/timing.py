"""The outermost middleware of the bench: ``Server-Timing: app;dur=<ms>``."""

import time


def server_timing(get_response):
    def middleware(request):
        started = time.perf_counter()
        response = get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response

    return middleware
