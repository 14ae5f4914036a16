"""The admin dashboard: server-rendered SVG charts of usage, providers and queues."""
