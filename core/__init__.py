"""The ground floor: what every app uses and nothing of the project's own.

Errors and the envelope, the exception handler and middleware, request ids, pagination,
parsers and renderers, numbers, schema helpers, the process cache, live-event pub/sub, the rate
limits, the URL guard and task messages. It has no models and imports no app (import-linter
holds it to that); an app above that must tell it something fills a small registry when it
starts (``core.throttling.hourly_quota_lookup_set``).
"""
