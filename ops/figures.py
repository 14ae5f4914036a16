"""The database's figures for the operator: users, stored images and the bytes they take.

They are whole-table aggregates, so they are kept in the cache for a short while
(``ATELIER_ADMIN_STATUS_CACHE_SECONDS``) and the ``ops.heartbeat`` task refreshes them: the status
page and the metrics scrape seldom pay for the scan.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Count, Sum

from gallery.models import Asset

CACHE_KEY = "ops:admin-status:database"


def database_figures(*, refresh: bool = False) -> dict:
    """``total_users``, ``total_images`` and ``storage_used_bytes``; from the cache unless
    ``refresh`` asks for a new count (which is then cached)."""
    figures = None if refresh else cache.get(CACHE_KEY)
    if figures is None:
        assets = Asset.objects.aggregate(n=Count("id"), size=Sum("file_size"))
        figures = {
            "total_users": get_user_model().objects.count(),
            "total_images": assets["n"],
            "storage_used_bytes": assets["size"] or 0,
        }
        if settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS:
            cache.set(CACHE_KEY, figures, timeout=settings.ATELIER_ADMIN_STATUS_CACHE_SECONDS)
    return figures
