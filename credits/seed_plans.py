"""The plans seeded by credits/migrations/0003_seed_plans.py."""

# Seed 004 shows a Pro plan with 500 credits a month. The admin can edit every number afterwards.
PLANS = [
    {
        "slug": "free",
        "name": "Free",
        "monthly_credits": 100,
        # None: the ATELIER_DEFAULT_* settings apply (seed 001: 50 a day, 100 an hour).
        "daily_generation_quota": None,
        "hourly_request_quota": None,
        "training_allowance": 0,
        "max_upload_mb": 10,
        "is_default": True,
        "sort_order": 10,
    },
    {
        "slug": "pro",
        "name": "Pro",
        "monthly_credits": 500,
        "daily_generation_quota": 500,
        "hourly_request_quota": 1000,
        "training_allowance": 5,
        "max_upload_mb": 100,
        "is_default": False,
        "sort_order": 20,
    },
    {
        "slug": "studio",
        "name": "Studio",
        "monthly_credits": 2000,
        "daily_generation_quota": 2000,
        "hourly_request_quota": 5000,
        "training_allowance": 20,
        "max_upload_mb": 500,
        "is_default": False,
        "sort_order": 30,
    },
]
