from django import forms
from django.contrib import admin

from catalog import services
from catalog.models import AIModel, Format, PromptExample, Setting, Style, WorkflowTemplate
from catalog.selectors import model_price_per_image
from catalog.workflows import workflow_template_check
from core.errors import ValidationFailed


@admin.register(AIModel)
class AIModelAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "provider",
        "kind",
        "credit_cost",
        "price",
        "max_images",
        "rate_limit",
        "previews",
        "is_active",
    ]
    readonly_fields = ["previews"]
    list_filter = ["provider", "kind", "is_active"]
    search_fields = ["id", "name", "description", "provider_model"]
    list_editable = ["credit_cost", "is_active"]
    ordering = ["sort_order", "id"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "credit_cost" in form.base_fields:
            form.base_fields["credit_cost"].help_text = (
                "Base credits per image. Image-to-video and upscale models are charged extra per image "
                "(ATELIER_CREDIT_EXTRA_VIDEO, ATELIER_CREDIT_EXTRA_UPSCALE), LoRAs too (ATELIER_CREDIT_LORA_EXTRA)."
            )
        return form

    @admin.display(description="Previews", boolean=True)
    def previews(self, model: AIModel) -> bool:
        """Whether jobs show in-progress pictures; a fal or Replicate model that streams says so
        with ``"stream": true`` in its defaults."""
        return model.supports_previews

    @admin.display(description="Charged per image")
    def price(self, model: AIModel) -> int:
        """What a user pays for one image: the base price with the extras for the model's kind."""
        return model_price_per_image(model=model)


class _ServiceRulesForm(forms.ModelForm):
    """Runs the service's rules for the row being saved, so the admin refuses what the API refuses."""

    def check(self, instance) -> None:
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            instance = self.instance
            for field, value in cleaned.items():
                setattr(instance, field, value)
            try:
                self.check(instance)
            except ValidationFailed as error:
                for field, messages in (error.details or {}).items():
                    self.add_error(field if field in self.fields else None, messages)
        return cleaned


class StyleForm(_ServiceRulesForm):
    def check(self, instance) -> None:
        services.style_check(style=instance)


class SettingForm(_ServiceRulesForm):
    def check(self, instance) -> None:
        services.setting_check(setting=instance)


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin):
    form = StyleForm
    list_display = ["name", "description", "sort_order", "updated_at"]
    list_editable = ["sort_order"]
    search_fields = ["name", "description", "prompt_template"]


@admin.register(Format)
class FormatAdmin(admin.ModelAdmin):
    list_display = ["name", "width", "height", "description", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["name", "description"]


@admin.register(PromptExample)
class PromptExampleAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "updated_at"]
    list_filter = ["category"]
    search_fields = ["title", "prompt"]


@admin.register(Setting)
class SettingAdmin(admin.ModelAdmin):
    list_display = ["name", "value", "value_type", "description", "updated_at"]
    form = SettingForm
    list_filter = ["value_type"]
    search_fields = ["name", "description"]


class WorkflowTemplateForm(_ServiceRulesForm):
    def check(self, instance) -> None:
        workflow_template_check(template=instance)


@admin.register(WorkflowTemplate)
class WorkflowTemplateAdmin(admin.ModelAdmin):
    form = WorkflowTemplateForm
    list_display = ["name", "description", "is_active", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
