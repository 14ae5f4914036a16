"""Prompt enhancement: an LLM (Anthropic or OpenAI SDK) or the offline composer."""

from generation.prompts.composer import Choices
from generation.prompts.service import Enhancement, prompt_enhance, prompt_prepare_for_generation, style_resolve

__all__ = ["Choices", "Enhancement", "prompt_enhance", "prompt_prepare_for_generation", "style_resolve"]
