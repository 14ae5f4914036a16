"""Seed 003, Dreamy Studio, has no shapes of its own to map: its paths and request fields are
the canonical API's (``/api/generate``, ``/api/gallery``, ``/api/credits``, ``/health``, the
provider webhooks), and its answers use the canonical snake_case names (``queue_position``,
``created_at``, ``is_favorited``). The module is kept, empty, so that each seed is found here."""
