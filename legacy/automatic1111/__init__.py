"""AUTOMATIC1111's web UI API (``/sdapi/v1/*``) over the canonical services, for the clients that
already speak it (Open WebUI's "automatic1111" engine, the ``webuiapi`` Python client).

``txt2img`` and ``img2img`` submit through ``generation_submit`` and wait; the lists answer the
catalog's models, the user's trained LoRAs and fixed sampler and scheduler names; ``options``
keeps the chosen checkpoint per user; ``progress`` follows the user's current job (with its
newest live preview), ``interrupt`` and ``skip`` cancel it, and ``png-info`` reads what made an
image from the metadata inside it.
These routes answer in A1111's shapes, errors included, documented in the compatible APIs' own
OpenAPI document (``legacy.schema``, ``/api/schema/compat/``).
"""
