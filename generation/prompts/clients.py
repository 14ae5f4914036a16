"""Chat clients for prompt enhancement, over the official Anthropic and OpenAI SDKs.

Each turns a system and a user message into one reply text, or raises LLMError. The SDKs'
base URLs come from ANTHROPIC_BASE_URL / OPENAI_BASE_URL so tests and gateways can point them
elsewhere.
"""

from dataclasses import dataclass

from django.conf import settings

# The SDKs are imported on first use: together they weigh about 80 MB, which every web and
# worker process would otherwise carry whether or not prompt enhancement is configured.


class LLMError(Exception):
    """The provider could not give a usable answer (refused, failed, unreachable or empty)."""


@dataclass(frozen=True)
class LLMReply:
    text: str
    provider: str
    model: str


class AnthropicChat:
    provider = "anthropic"

    def is_configured(self) -> bool:
        return bool(settings.ANTHROPIC_API_KEY)

    def default_model(self) -> str:
        return settings.ATELIER_PROMPT_ANTHROPIC_MODEL

    def complete(self, *, system: str, user: str, model: str) -> LLMReply:
        import anthropic

        client = anthropic.Anthropic(
            api_key=settings.ANTHROPIC_API_KEY,
            base_url=settings.ANTHROPIC_BASE_URL or None,
            timeout=settings.ATELIER_PROMPT_LLM_TIMEOUT_SECONDS,
            max_retries=settings.ATELIER_PROMPT_LLM_MAX_RETRIES,
        )
        try:
            message = client.messages.create(
                model=model,
                max_tokens=settings.ATELIER_PROMPT_LLM_MAX_TOKENS,
                system=system,
                messages=[{"role": "user", "content": user}],
            )
        except anthropic.AnthropicError as error:
            raise LLMError(f"Anthropic: {_describe(error)}") from error
        text = "".join(getattr(block, "text", "") for block in message.content or [] if block.type == "text")
        return LLMReply(text=text, provider=self.provider, model=message.model or model)


class OpenAIChat:
    provider = "openai"

    def is_configured(self) -> bool:
        return bool(settings.OPENAI_API_KEY)

    def default_model(self) -> str:
        return settings.ATELIER_PROMPT_OPENAI_MODEL

    def complete(self, *, system: str, user: str, model: str) -> LLMReply:
        import openai

        client = openai.OpenAI(
            api_key=settings.OPENAI_API_KEY,
            base_url=settings.OPENAI_BASE_URL or None,
            timeout=settings.ATELIER_PROMPT_LLM_TIMEOUT_SECONDS,
            max_retries=settings.ATELIER_PROMPT_LLM_MAX_RETRIES,
        )
        try:
            completion = client.chat.completions.create(
                model=model,
                max_completion_tokens=settings.ATELIER_PROMPT_LLM_MAX_TOKENS,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
            )
        except openai.OpenAIError as error:
            raise LLMError(f"OpenAI: {_describe(error)}") from error
        choices = completion.choices or []
        text = (choices[0].message.content or "") if choices else ""
        return LLMReply(text=text, provider=self.provider, model=completion.model or model)


def _describe(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    name = type(error).__name__
    return f"{name} (HTTP {status})" if status else name


CLIENTS = {"anthropic": AnthropicChat(), "openai": OpenAIChat()}
