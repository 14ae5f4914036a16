"""The staff API (``/admin/api/…``), one module per area, every view on ``base.StaffView``: system
status, users and their credits, usage metrics, outbound webhook endpoints."""
