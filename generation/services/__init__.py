"""Every write to a generation. The modules split it by who calls: the routes (submit), the
API and the operators (lifecycle), the workers (running), the periodic recovery (recovery)."""

from generation.services.events import generation_record_log, generation_record_progress
from generation.services.idempotency import idempotency_expire
from generation.services.lifecycle import (
    generation_cancel,
    generation_cancel_unfinished,
    generation_complete,
    generation_create,
    generation_fail,
    generation_model_resolve,
    generation_quote,
)
from generation.services.recovery import generation_recover_stuck
from generation.services.running import generation_poll, generation_run
from generation.services.submit import Submitted, generation_failure, generation_submit

__all__ = [
    "Submitted",
    "generation_cancel",
    "generation_cancel_unfinished",
    "generation_complete",
    "generation_create",
    "generation_fail",
    "generation_failure",
    "generation_model_resolve",
    "generation_poll",
    "generation_quote",
    "generation_record_log",
    "generation_record_progress",
    "generation_recover_stuck",
    "generation_run",
    "generation_submit",
    "idempotency_expire",
]
