"""Every size preset names a size of its own, in the built-in list and in the seeded formats."""

from importlib import import_module

import pytest
from django.apps import apps

from catalog.models import Format
from catalog.presets import SIZE_PRESETS
from tests.helpers import generate_done

pytestmark = pytest.mark.django_db

square_migration = import_module("catalog.migrations.0007_square_preset_size")


def test_no_two_presets_share_a_size():
    assert len(set(SIZE_PRESETS.values())) == len(SIZE_PRESETS)


def test_the_seeded_formats_each_have_their_own_size(alice):
    formats = {f["name"]: (f["width"], f["height"]) for f in alice.get("/api/images/formats").json()}
    assert formats["square_hd"] == (1024, 1024)
    assert formats["square"] == (512, 512)
    assert len(set(formats.values())) == len(formats)


def test_square_makes_a_512_pixel_image(alice):
    generation = generate_done(alice, image_size="square")
    assert (generation["width"], generation["height"]) == (512, 512)


def test_the_migration_resizes_the_first_seeded_square_and_back():
    square = Format.objects.get(name="square")
    Format.objects.filter(pk=square.pk).update(width=1024, height=1024, description="Square (1:1).")
    square_migration.forwards(apps, None)
    square.refresh_from_db()
    assert (square.width, square.height, square.description) == (512, 512, "Square, standard definition (1:1).")
    square_migration.backwards(apps, None)
    square.refresh_from_db()
    assert (square.width, square.height, square.description) == (1024, 1024, "Square (1:1).")


def test_the_migration_keeps_a_size_an_operator_chose():
    Format.objects.filter(name="square").update(width=768, height=768, description="Our square")
    square_migration.forwards(apps, None)
    square = Format.objects.get(name="square")
    assert (square.width, square.height, square.description) == (768, 768, "Our square")
