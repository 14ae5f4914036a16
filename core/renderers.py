"""The browsable API, except where a browser asked for a page: on the site's own paths (share
links, downloads) a DRF view's 404 is the styled error page, as every other HTML 404 is."""

from django.template.loader import render_to_string
from rest_framework.renderers import BrowsableAPIRenderer

# Paths that are the API: there a browser gets the browsable API, errors included.
API_PREFIXES = ("/api/", "/admin/api/", "/auth/")
HTML_ERROR_STATUSES = {404: "Not found"}


class PageErrorsBrowsableAPIRenderer(BrowsableAPIRenderer):
    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        request, response = context.get("request"), context.get("response")
        status = getattr(response, "status_code", 200)
        if request is not None and status in HTML_ERROR_STATUSES and not request.path.startswith(API_PREFIXES):
            message = HTML_ERROR_STATUSES[status]
            return render_to_string("error.html", {"status": status, "message": message}, request=request)
        return super().render(data, accepted_media_type, renderer_context)
