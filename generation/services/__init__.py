"""Every write to a generation. The modules split it by who calls: the API (lifecycle), the
workers (running), the periodic recovery (recovery)."""

from generation.services.events import generation_record_log, generation_record_progress
from generation.services.idempotency import idempotency_expire, idempotent_call, request_fingerprint
from generation.services.lifecycle import (
    generation_cancel,
    generation_cancel_unfinished,
    generation_complete,
    generation_create,
    generation_enqueue,
    generation_fail,
    generation_model_resolve,
)
from generation.services.recovery import generation_recover_stuck
from generation.services.running import generation_poll, generation_run

__all__ = [
    "generation_cancel",
    "generation_cancel_unfinished",
    "generation_complete",
    "generation_create",
    "generation_enqueue",
    "generation_fail",
    "generation_model_resolve",
    "generation_poll",
    "generation_record_log",
    "generation_record_progress",
    "generation_recover_stuck",
    "generation_run",
    "idempotency_expire",
    "idempotent_call",
    "request_fingerprint",
]
