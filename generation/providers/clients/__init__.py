"""One client module per hosted provider, shared by every feature that calls it.

Generation's adapters (generation/providers/) and training's (training/providers/) reach fal
and Replicate through these modules only: the SDK client built from settings, the call wrapper
that turns the SDK's errors into ours, the handles, and cancel.
"""
