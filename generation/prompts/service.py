"""Prompt enhancement: a topic and style choices in, a rich image prompt out.

An LLM (Anthropic or OpenAI) writes the prompt when one is configured; otherwise, or when the
LLM fails, the offline composer does. The result always says which path produced it:
``enhancement_applied`` is true only when an LLM wrote the prompt.
"""

import logging
from dataclasses import dataclass

from django.conf import settings

from catalog.models import Style
from catalog.selectors import setting_value, style_get_by_name, style_names
from core.errors import ValidationFailed
from generation.prompts.clients import CLIENTS, LLMError, LLMReply
from generation.prompts.composer import Choices, compose_prompt

logger = logging.getLogger(__name__)

OFFLINE = "offline"

SYSTEM_PROMPT = (
    "You write prompts for text-to-image models. Expand the user's topic into one vivid, concrete "
    "image prompt that respects every choice given (style, colors, lighting, framing, background, "
    "effects). Answer with the prompt only: one paragraph, at most 120 words, no preamble, no quotes."
)


@dataclass(frozen=True)
class Enhancement:
    prompt: str
    original_topic: str
    enhancement_applied: bool
    estimated_quality: str
    enhanced_by: str
    model: str | None
    art_style: str | None
    fallback_reason: str | None = None


def style_resolve(*, name: str | None) -> Style | None:
    """The style named (case-insensitive), None for no name; unknown names are a 400."""
    if not name or not name.strip():
        return None
    style = style_get_by_name(name=name)
    if style is None:
        raise ValidationFailed(
            "Unknown art style",
            details={"art_style": [f"Unknown style '{name}'. Use one of: {', '.join(style_names())}."]},
        )
    return style


def _route(model: str | None) -> tuple[str, str | None]:
    """(provider, model id) for a requested ``anthropic/…``, ``openai/…`` or ``offline`` model."""
    if model:
        provider, _, model_id = model.partition("/")
        if provider == OFFLINE and not model_id:
            return OFFLINE, None
        if provider in CLIENTS and model_id:
            return provider, model_id
        raise ValidationFailed(
            "Unknown prompt model",
            details={"model": ["Use 'anthropic/<model>', 'openai/<model>' or 'offline'."]},
        )
    preference = setting_value(name="prompt_enhancement_provider", default="auto")
    if preference in CLIENTS or preference == OFFLINE:
        return preference, None
    for name, client in CLIENTS.items():
        if client.is_configured():
            return name, None
    return OFFLINE, None


def _user_message(*, topic: str, style: Style | None, choices: Choices) -> str:
    lines = [f"Topic: {topic}"]
    if style is not None:
        keywords = [part.strip() for part in style.prompt_template.replace("{prompt}", "").split(",")]
        lines.append(f"Art style: {style.name}" + (f" ({style.description})" if style.description else ""))
        lines.append(f"Style keywords: {', '.join(word for word in keywords if word)}")
    labels = {
        "color_scheme": "Color scheme",
        "lighting_mood": "Lighting mood",
        "subject_focus": "Subject focus",
        "background_style": "Background style",
        "effects_filters": "Effects and filters",
    }
    lines += [f"{labels[name]}: {value}" for name, value in choices.as_dict().items()]
    return "\n".join(lines)


def _clean(text: str) -> str:
    text = " ".join(text.split()).strip().strip('"“”').strip()
    return text[: settings.ATELIER_MAX_PROMPT_LENGTH]


def _ask_llm(*, provider: str, model_id: str | None, topic: str, style: Style | None, choices: Choices) -> LLMReply:
    client = CLIENTS[provider]
    if not client.is_configured():
        raise LLMError(f"{provider} is not configured (no API key)")
    try:
        reply = client.complete(
            system=SYSTEM_PROMPT,
            user=_user_message(topic=topic, style=style, choices=choices),
            model=model_id or client.default_model(),
        )
    except LLMError:
        raise
    except Exception as error:
        # A body the SDK could not read, a connection that broke mid-answer: all fall back.
        logger.warning("Prompt enhancement through %s failed", provider, exc_info=True)
        raise LLMError(f"{provider}: {type(error).__name__}") from error
    if not _clean(reply.text):
        raise LLMError(f"{provider} answered with an empty prompt")
    return reply


def prompt_enhance(
    *, topic: str, model: str | None = None, art_style: str | None = None, choices: Choices | None = None
) -> Enhancement:
    """Enhances ``topic``: through the LLM routed to, else offline (saying why in ``fallback_reason``)."""
    topic = " ".join(topic.split())
    if not topic:
        raise ValidationFailed(details={"topic": ["This field may not be blank."]})
    choices = choices or Choices()
    style = style_resolve(name=art_style)
    provider, model_id = _route(model)
    fallback_reason = None
    if provider != OFFLINE:
        try:
            reply = _ask_llm(provider=provider, model_id=model_id, topic=topic, style=style, choices=choices)
        except LLMError as error:
            fallback_reason = str(error)
            logger.info("Prompt enhancement fell back to the offline composer: %s", fallback_reason)
        else:
            return Enhancement(
                prompt=_clean(reply.text),
                original_topic=topic,
                enhancement_applied=True,
                estimated_quality="high",
                enhanced_by=reply.provider,
                model=reply.model,
                art_style=style.name if style else None,
            )
    prompt = _clean(compose_prompt(topic=topic, choices=choices, style=style))
    # The composer only adds what it was given: more choices, a richer (but never "high") prompt.
    richness = len(choices.as_dict()) + (2 if style else 0)
    return Enhancement(
        prompt=prompt,
        original_topic=topic,
        enhancement_applied=False,
        estimated_quality="medium" if richness >= 2 else "standard",
        enhanced_by=OFFLINE,
        model=None,
        art_style=style.name if style else None,
        fallback_reason=fallback_reason,
    )


@dataclass(frozen=True)
class PreparedPrompt:
    final_prompt: str
    negative_prompt: str
    params: dict


def prompt_prepare_for_generation(
    *, prompt: str, negative_prompt: str, art_style: str | None, expand: bool
) -> PreparedPrompt:
    """What a generation sends: the style's template applied, or the enhanced prompt when expanding.

    Called before the generation's transaction opens: the LLM may take seconds.
    """
    style = style_resolve(name=art_style)
    params: dict = {}
    if style is not None:
        params["art_style"] = style.name
        styled = style.apply_negative(negative_prompt)
        if styled != negative_prompt.strip():
            # The user's own words, kept apart: a remix applies the style to them again.
            params["negative_prompt_asked"] = negative_prompt.strip()
        negative_prompt = styled
    if expand and prompt:
        enhancement = prompt_enhance(topic=prompt, art_style=style.name if style else None)
        params["prompt_enhancement"] = enhancement.enhanced_by
        final_prompt = enhancement.prompt
    else:
        final_prompt = style.apply(prompt) if style is not None and prompt else prompt
    return PreparedPrompt(
        final_prompt=final_prompt[: settings.ATELIER_MAX_PROMPT_LENGTH],
        negative_prompt=negative_prompt[: settings.ATELIER_MAX_NEGATIVE_PROMPT_LENGTH],
        params=params,
    )
