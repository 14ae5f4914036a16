"""Seed 004's admin API for staff: system status, users, usage metrics (``/admin/api/…``)."""
