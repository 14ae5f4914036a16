"""64 concurrent users against a fake fal: submit latency and time until all complete."""
