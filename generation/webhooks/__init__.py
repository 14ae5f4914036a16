"""Inbound webhooks from hosted providers: signature verification, then the same services the polls use."""
