"""The operator console's signal receivers, connected when OpsConfig.ready() imports this module:
each provider call generation announces is counted in the provider health figures."""

from generation.signals import provider_call_finished
from ops.provider_health import provider_call_finished_record

provider_call_finished.connect(provider_call_finished_record, dispatch_uid="ops-provider-call-record")
