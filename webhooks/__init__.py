"""Outbound webhooks: signed (Standard Webhooks), delivered by Celery with retries, logged."""
