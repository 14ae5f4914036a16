"""Gallery list latency at a million assets: first page vs a page 1,000,000 rows deep."""
