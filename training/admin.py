"""Training jobs in the admin: filters by status and provider, and the cancel and refund actions."""

from django.contrib import admin, messages

from training.models import TERMINAL_STATUSES, LoRA, TrainingDataset, TrainingJob
from training.services import training_cancel, training_refund, unused_credits


@admin.register(TrainingJob)
class TrainingJobAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "user",
        "provider",
        "trigger_word",
        "status",
        "progress",
        "current_step",
        "steps",
        "cost",
        "refunded",
        "created_at",
    )
    list_filter = ("status", "provider", "created_at")
    search_fields = ("id", "user__email", "trigger_word", "provider_request_id")
    readonly_fields = [field.name for field in TrainingJob._meta.fields]
    actions = ["cancel_jobs", "refund_unused"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Cancel (refunds the unused part)")
    def cancel_jobs(self, request, queryset):
        done = 0
        for job in queryset.exclude(status__in=TERMINAL_STATUSES):
            training_cancel(job=job)
            done += 1
        self.message_user(request, f"Cancelled {done} training(s).", messages.SUCCESS)

    @admin.action(description="Refund the unused part of finished jobs (once per job)")
    def refund_unused(self, request, queryset):
        total = 0
        for job in queryset.filter(status__in=TERMINAL_STATUSES, refunded_at__isnull=True):
            total += training_refund(
                job_id=job.pk, amount=unused_credits(job), reason=f"Staff refund of LoRA training “{job.trigger_word}”"
            )
        self.message_user(request, f"Refunded {total} credits.", messages.SUCCESS)


@admin.register(LoRA)
class LoRAAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "provider", "trigger_word", "created_at")
    list_filter = ("provider",)
    search_fields = ("name", "user__email", "trigger_word")


@admin.register(TrainingDataset)
class TrainingDatasetAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "image_count", "total_size", "created_at")
    search_fields = ("id", "user__email")
