"""The library (seed 001's ``/library``) and asset (``/asset/{id}``) pages, and the small htmx
endpoints behind their buttons. Reads go through gallery.selectors, writes through
gallery.services, exactly as the REST API's do."""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from rest_framework.exceptions import ValidationError

from catalog.labels import human_label, model_name
from gallery.credentials_panel import asset_credentials_panel
from gallery.filters import AssetFilter
from gallery.models import Asset
from gallery.selectors import (
    asset_filter_choices,
    asset_get_deletable,
    asset_get_visible,
    asset_keyset_page,
    asset_list,
    collection_list,
)
from gallery.serializers import asset_share_url
from gallery.services import asset_delete, asset_shares_prompts, asset_update
from teams.acting import acting_membership, acting_team
from teams.errors import TeamPermissionDenied
from teams.policy import team_object_delete_check

LIBRARY_PAGE_SIZE = 24
LANDING_IMAGES = 6
DOWNLOAD_FORMATS = ("png", "jpeg", "webp")
MAX_BULK_DELETE = 500


def _own_asset(request, pk) -> Asset:
    # The owner's, or a team's the person belongs to.
    asset = asset_get_visible(user=request.user, asset_id=pk)
    if asset is None:
        raise Http404("Asset not found")
    return asset


def _changeable_asset(request, pk) -> Asset:
    """The asset, when the person may change it: a team's asset is its maker's and the team's
    owners' and admins' to share or delete (403 for other members), as in the API."""
    asset = _own_asset(request, pk)
    try:
        team_object_delete_check(user=request.user, team_id=asset.team_id, creator_id=asset.owner_id)
    except TeamPermissionDenied as exc:
        raise PermissionDenied(exc.message) from exc
    return asset


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _public_showcase() -> list[Asset]:
    """A few of the newest shared images (public and not NSFW: exactly what share links show)."""
    return list(
        Asset.objects.filter(is_public=True, is_nsfw=False, type=Asset.Type.IMAGE)
        .exclude(short_key="")
        .order_by("-created_at", "-id")[:LANDING_IMAGES]
    )


@require_GET
def landing(request):
    """``/`` for visitors: what Atelier is, how to join, and what others have shared."""
    return render(request, "landing.html", {"showcase": _public_showcase()})


@require_GET
@login_required
def library(request):
    # The space chosen in the header bar: the team's library, or the person's.
    team = acting_team(request)
    filters = AssetFilter(data=request.GET, queryset=asset_list(owner=request.user, team=team))
    sort = "oldest" if request.GET.get("sort") == "oldest" else "newest"
    queryset = filters.qs.select_related("collection").order_by(
        *(("created_at", "id") if sort == "oldest" else ("-created_at", "-id"))
    )
    cursor = request.GET.get("cursor") or None
    error = None
    try:
        assets, next_cursor = asset_keyset_page(queryset=queryset, sort=sort, cursor=cursor, limit=LIBRARY_PAGE_SIZE)
    except ValidationError:
        assets, next_cursor, cursor = [], None, None
        error = "This link to a later page is no longer valid. Showing the library from the start."
    next_url = None
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_url = f"{reverse('library')}?{query.urlencode()}"
    context = {"assets": assets, "next_url": next_url}
    if _is_htmx(request) and cursor:
        # The next page of an infinite scroll: only the tiles and the next sentinel.
        return render(request, "gallery/_library_tiles.html", context)
    collections = list(collection_list(owner=request.user, team=team))
    context.update(
        filters=filters,
        form_errors=filters.errors,
        error=error,
        sort=sort,
        choices=asset_filter_choices(owner=request.user),
        collections=collections,
        current_collection=next((c for c in collections if str(c.pk) == request.GET.get("collection")), None),
        is_filtered=any(
            request.GET.get(name)
            for name in ("type", "model", "style", "favorites", "date_from", "date_to", "collection")
        ),
    )
    return render(request, "gallery/library.html", context)


@require_POST
@login_required
def library_delete(request):
    # The person's own assets; in a team's space, an owner or admin also deletes the team's.
    membership = acting_membership(request)
    deleted = 0
    for pk in request.POST.getlist("ids")[:MAX_BULK_DELETE]:
        try:
            asset = asset_get_deletable(user=request.user, asset_id=uuid.UUID(pk), membership=membership)
        except ValueError:
            asset = None
        if asset is not None:
            asset_delete(asset=asset)
            deleted += 1
    if deleted:
        messages.success(request, f"Deleted {deleted} item{'s' if deleted != 1 else ''}.")
    else:
        messages.error(request, "Nothing was deleted: select items of your library first.")
    return redirect("library")


def _style_of(asset: Asset) -> str:
    if asset.style:
        return asset.style
    return (asset.generation.params.get("art_style") or "") if asset.generation is not None else ""


def _reuse_url(asset: Asset) -> str:
    """The studio, filled with what made this asset: every setting of its generation, input images
    included (``from_asset``), or what the asset itself recorded once its generation is gone."""
    if asset.generation_id:
        return f"{reverse('studio')}?{urlencode({'from_asset': asset.pk})}"
    query = {"prompt": asset.prompt, "model": asset.model, "seed": asset.seed, "style": _style_of(asset)}
    return f"{reverse('studio')}?{urlencode({k: v for k, v in query.items() if v not in (None, '')})}"


def _parameters(asset: Asset) -> list[tuple[str, object]]:
    generation = asset.generation
    rows = [
        ("Model", model_name(asset.model)),
        ("Size", f"{asset.width} × {asset.height}"),
        ("Format", asset.format.upper()),
        ("Seed", asset.seed),
        ("Style", human_label(_style_of(asset))),
        ("Collection", asset.collection.name if asset.collection_id else None),
        ("Duration", f"{asset.duration:.1f} s" if asset.duration else None),
    ]
    if generation is not None:
        rows.append(("Negative prompt", generation.negative_prompt))
        for name, label in (("num_inference_steps", "Steps"), ("guidance_scale", "Guidance"), ("strength", "Strength")):
            rows.append((label, generation.params.get(name)))
        cost = generation.cost
        images = f" for {generation.num_images} images" if generation.num_images > 1 else ""
        rows.append(("Cost", f"{cost} credit{'' if cost == 1 else 's'}{images}"))
        rows.append(("Asked through", generation.get_api_display()))
    rows.append(("Created", asset.created_at))
    return [(label, value) for label, value in rows if value not in (None, "")]


def _share_context(request, asset: Asset) -> dict:
    share_url = asset_share_url(asset, request) if asset.is_shareable else None
    return {
        "asset": asset,
        "share_url": share_url,
        "shares_prompts": asset_shares_prompts(asset=asset),
    }


@require_GET
@login_required
def asset_page(request, pk):
    asset = _own_asset(request, pk)
    context = {
        **_share_context(request, asset),
        "parameters": _parameters(asset),
        "reuse_url": _reuse_url(asset),
        "download_formats": [asset.format] if asset.type == Asset.Type.VIDEO else DOWNLOAD_FORMATS,
        "credentials": asset_credentials_panel(asset),
    }
    return render(request, "gallery/asset.html", context)


@require_POST
@login_required
def asset_favorite(request, pk):
    # A team's asset is starred by its maker and the team's owners and admins, as in the API.
    asset = _changeable_asset(request, pk)
    asset = asset_update(asset=asset, data={"is_favorited": not asset.is_favorited})
    if _is_htmx(request):
        return render(request, "gallery/_favorite.html", {"asset": asset})
    return redirect("asset-page", pk=asset.pk)


@require_POST
@login_required
def asset_public(request, pk):
    return _share_choice(request, pk, "is_public")


@require_POST
@login_required
def asset_share_prompts(request, pk):
    """The share panel's choice: whether this image's share link serves its prompts."""
    return _share_choice(request, pk, "share_prompt_metadata")


def _share_choice(request, pk, field: str):
    """A checkbox of the share panel: sets ``field`` of the asset, answers the panel."""
    asset = _changeable_asset(request, pk)
    asset = asset_update(asset=asset, data={field: request.POST.get(field) == "1"})
    if _is_htmx(request):
        return render(request, "gallery/_share.html", _share_context(request, asset))
    return redirect("asset-page", pk=asset.pk)


@require_POST
@login_required
def asset_remove(request, pk):
    asset_delete(asset=_changeable_asset(request, pk))
    messages.success(request, "Deleted.")
    return redirect("library")
