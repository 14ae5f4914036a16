"""Thumbnail making against a bare Pillow baseline."""
