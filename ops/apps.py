from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        from generation.signals import provider_call_finished
        from ops.provider_health import provider_call_finished_record

        provider_call_finished.connect(provider_call_finished_record, dispatch_uid="ops-provider-call-record")
