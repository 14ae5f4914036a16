"""Seed 004's preferences on the user: every key with its default, and each change checked (the
style against the catalog's styles, the format against the file formats)."""

import pytest

from accounts.selectors import PREFERENCE_DEFAULTS, user_preferences
from accounts.services import user_preferences_update
from catalog.selectors import style_names
from core.errors import ValidationFailed

pytestmark = pytest.mark.django_db


def _update(user, **preferences) -> dict:
    return user_preferences_update(user=user, preferences=preferences, styles=style_names())


def _refused(user, preferences) -> dict:
    before = type(user).objects.get(pk=user.pk).preferences
    with pytest.raises(ValidationFailed) as refused:
        user_preferences_update(user=user, preferences=preferences, styles=style_names())
    assert type(user).objects.get(pk=user.pk).preferences == before
    assert refused.value.http_status == 400
    return refused.value.details


def test_a_new_user_has_every_preference_at_its_default(alice):
    assert user_preferences(user=alice.user) == {
        "default_style": "",
        "preferred_format": "png",
        "email_notifications": True,
    }
    assert user_preferences(user=alice.user) == PREFERENCE_DEFAULTS


def test_set_preferences_stay_over_the_defaults_and_persist(alice, bob):
    assert _update(alice.user, default_style="modern") == {
        "default_style": "modern",
        "preferred_format": "png",
        "email_notifications": True,
    }
    assert _update(alice.user, preferred_format="webp", email_notifications=False) == {
        "default_style": "modern",
        "preferred_format": "webp",
        "email_notifications": False,
    }
    stored = type(alice.user).objects.get(pk=alice.user.pk)
    assert user_preferences(user=stored)["preferred_format"] == "webp"
    assert user_preferences(user=bob.user) == PREFERENCE_DEFAULTS


def test_a_style_is_stored_as_the_catalog_spells_it_and_blank_clears_it(alice):
    assert _update(alice.user, default_style=" Watercolor ")["default_style"] == "watercolor"
    assert _update(alice.user, default_style="")["default_style"] == ""


def test_an_unknown_style_is_refused(alice):
    details = _refused(alice.user, {"default_style": "no-such-style"})
    assert "Unknown style" in details["default_style"][0]
    assert "modern" in details["default_style"][0]


@pytest.mark.parametrize(
    ("preferences", "key"),
    [
        ({"preferred_format": "bmp"}, "preferred_format"),
        ({"preferred_format": 3}, "preferred_format"),
        ({"email_notifications": "yes"}, "email_notifications"),
        ({"default_style": ["modern"]}, "default_style"),
        ({"theme": "dark"}, "theme"),
    ],
)
def test_a_bad_value_is_refused_and_nothing_changes(alice, preferences, key):
    _update(alice.user, default_style="modern")
    details = _refused(alice.user, {**preferences, "preferred_format": preferences.get("preferred_format", "jpeg")})
    assert key in details


def test_preferences_must_be_an_object(alice):
    assert "preferences" in _refused(alice.user, ["modern"])
