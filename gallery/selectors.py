from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.urls import Resolver404, resolve

from gallery.models import Asset, Collection
from gallery.pagination import after, decode_cursor, encode_cursor
from teams.selectors import space_listed_q, space_visible_q


def asset_list(*, owner, team=None) -> QuerySet[Asset]:
    """The owner's personal library, or with ``team`` the team's (every member's work in it)."""
    space = space_listed_q(user=owner, team=team, owner_field="owner")
    return Asset.objects.filter(space).select_related("generation").order_by("-created_at", "-id")


def asset_get(*, owner, asset_id) -> Asset | None:
    """One asset the owner made (in any space)."""
    return Asset.objects.filter(owner=owner, pk=asset_id).first()


def asset_get_deletable(*, user, asset_id, membership=None) -> Asset | None:
    """One asset the user may delete from the library: one they made (in any space), or, in the
    space of a team they own or administer (``membership``), any of that team's assets. The
    same rule as deleting a single asset; another member's team asset is not found."""
    deletable = Q(owner=user)
    if membership is not None and membership.manages:
        deletable |= Q(team_id=membership.team_id)
    return Asset.objects.filter(deletable, pk=asset_id).first()


def asset_get_visible(*, user, asset_id, key_team=None) -> Asset | None:
    """One asset of the user's or of a team they belong to (``key_team``: that team's only)."""
    visible = space_visible_q(user=user, key_team=key_team, owner_field="owner")
    return Asset.objects.filter(visible, pk=asset_id).first()


def asset_find_by_url(*, owner, url: str) -> Asset | None:
    """The owner's asset a URL we handed out points at: its file, thumbnail, download or share
    link (absolute or not), or the storage path of its file."""
    path = urlsplit(url).path
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is not None:
        if "pk" in match.kwargs:
            return asset_get(owner=owner, asset_id=match.kwargs["pk"])
        if "key" in match.kwargs:
            return Asset.objects.filter(owner=owner, short_key=match.kwargs["key"]).first()
    media_url = settings.MEDIA_URL or "/"
    name = path[len(media_url) :] if path.startswith(media_url) else path.lstrip("/")
    if not name:
        return None
    return Asset.objects.filter(owner=owner, file=name).first()


def asset_get_shared(*, short_key: str, viewer=None) -> Asset | None:
    """An asset by its short key: public and not NSFW, or the viewer's own. Never anyone's private one."""
    asset = Asset.objects.filter(short_key=short_key).first()
    if asset is None:
        return None
    if asset.is_shareable or (viewer is not None and viewer.is_authenticated and asset.owner_id == viewer.pk):
        return asset
    return None


def collection_get(*, owner, collection_id, team=None) -> Collection | None:
    """The owner's personal collection, or with ``team`` the team's."""
    space = space_listed_q(user=owner, team=team, owner_field="owner")
    return Collection.objects.filter(space, pk=collection_id).first()


def collection_list(*, owner, team=None) -> QuerySet[Collection]:
    """The owner's personal collections, or with ``team`` the team's."""
    space = space_listed_q(user=owner, team=team, owner_field="owner")
    return Collection.objects.filter(space).annotate(asset_count=Count("assets")).order_by("-created_at", "-id")


def collection_get_visible(*, user, collection_id, key_team=None) -> Collection | None:
    visible = space_visible_q(user=user, key_team=key_team, owner_field="owner")
    return Collection.objects.filter(visible, pk=collection_id).annotate(asset_count=Count("assets")).first()


def asset_keyset_page(
    *, queryset: QuerySet[Asset], sort: str, cursor: str | None, limit: int
) -> tuple[list, str | None]:
    """One page of an already filtered and ordered queryset after ``cursor``, and the next cursor.

    The library page scrolls with the same opaque cursors as ``/api/gallery?cursor=``.
    """
    if cursor:
        created_at, ident = decode_cursor(cursor, sort=sort)
        queryset = queryset.filter(after(created_at=created_at, id=ident, sort=sort))
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(created_at=rows[-1].created_at, id=rows[-1].id, sort=sort)


def asset_filter_choices(*, owner) -> dict:
    """The models and styles that occur in the owner's library, for the filter menus."""
    assets = Asset.objects.filter(owner=owner)
    return {
        "models": list(assets.exclude(model="").order_by("model").values_list("model", flat=True).distinct()),
        "styles": list(assets.exclude(style="").order_by("style").values_list("style", flat=True).distinct()),
    }
