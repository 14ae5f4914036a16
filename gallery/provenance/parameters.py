"""The ``parameters`` text that image tools write and read: made from Atelier's record, and read
back into fields from any tool's."""

import json
import re

from django.conf import settings


def parameters_text(metadata: dict) -> str:
    """The common ``parameters`` text: prompt lines, a ``Negative prompt:`` line, then settings.

    Without a prompt (the owner keeps prompts out of their files) only the settings line is left.
    """
    lines = []
    prompt = metadata.get("final_prompt") or metadata.get("prompt") or ""
    if prompt:
        lines.append(prompt)
    if metadata.get("negative_prompt"):
        lines.append(f"Negative prompt: {metadata['negative_prompt']}")
    pairs = [
        ("Steps", metadata.get("steps")),
        ("Sampler", metadata.get("sampler")),
        ("CFG scale", metadata.get("guidance")),
        ("Seed", metadata.get("seed")),
        (
            "Size",
            f"{metadata['width']}x{metadata['height']}" if metadata.get("width") and metadata.get("height") else None,
        ),
        ("Model", metadata.get("model")),
        ("Provider", metadata.get("provider")),
        ("Style", metadata.get("style")),
    ]
    for lora in metadata.get("loras") or []:
        pairs.append((f"Lora {lora.get('path', '')}", lora.get("scale")))
    pairs.append(("Version", software_name(metadata)))
    lines.append(", ".join(f"{key}: {_quoted(value)}" for key, value in pairs if value not in (None, "")))
    return "\n".join(lines)


_PAIR = re.compile(r'\s*(\w[\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')


def parameters_parse(text: str) -> dict:
    """The ``parameters`` text as fields: prompt, negative prompt, the known settings typed, and
    every other ``key: value`` pair as text in ``extra``."""
    lines = text.strip().splitlines()
    settings_line = ""
    if lines and _is_settings_line(lines[-1]):
        settings_line = lines.pop()
    prompt, negative, in_negative = [], [], False
    for line in lines:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:") :].strip()
        (negative if in_negative else prompt).append(line)
    pairs = {}
    for key, value in _PAIR.findall(settings_line):
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        pairs[key.strip()] = value
    size = re.fullmatch(r"(\d+)x(\d+)", pairs.pop("Size", "") or "")
    return {
        "prompt": "\n".join(prompt).strip(),
        "negative_prompt": "\n".join(negative).strip(),
        "steps": number(pairs.pop("Steps", None), int),
        "sampler": pairs.pop("Sampler", ""),
        "cfg_scale": number(pairs.pop("CFG scale", None), float),
        "seed": number(pairs.pop("Seed", None), int),
        "width": int(size.group(1)) if size else None,
        "height": int(size.group(2)) if size else None,
        "model": pairs.pop("Model", ""),
        "extra": pairs,
    }


def parameters_without_prompts(text: str) -> str:
    """The ``parameters`` text of any tool with its prompt and negative prompt lines taken out:
    the settings line alone, or nothing when it has none."""
    lines = text.strip().splitlines()
    return lines[-1] if lines and _is_settings_line(lines[-1]) else ""


def _is_settings_line(line: str) -> bool:
    """Whether the line is the settings line (``Steps: 20, Seed: 1, …``) that ends the text."""
    return len(_PAIR.findall(line)) >= 2 and bool(re.match(r"\s*\w[\w \-/]*:", line))


def number(value, kind):
    try:
        return kind(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _quoted(value) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(char in text for char in ',:"\n') else text


def software_name(metadata: dict) -> str:
    version = metadata.get("version") or settings.ATELIER_VERSION
    return f"{metadata.get('generator') or 'Atelier'} {version}"
