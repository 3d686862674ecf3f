"""DRF's browsable API under Momento's Content-Security-Policy.

Its templates carry a ``<style>`` element (Pygments' colours) and ``style=""``
attributes, which ``style-src 'self'`` blocks: every page of it logged a CSP violation
in the browser console. Like the Swagger page (``config.urls``), its pages alone may
use inline styles — never inline script.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.csp import CSP
from rest_framework import renderers

__all__ = ["BrowsableAPIRenderer"]


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        html = super().render(data, accepted_media_type, renderer_context)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_config = {
                **settings.SECURE_CSP,
                "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
            }
        return html
