"""Styles, formats, prompt examples and settings as first seeded by the data migration.

Plain data only, one dict per row. Styles carry seed 004's art styles (realistic, modern,
classic, abstract, …); formats are seed 003's size presets; settings are the values the
platform reads at run time (see ``catalog.settings_registry``).
"""

from catalog.presets import SIZE_PRESETS

_COMMON_NEGATIVE = "blurry, low quality, jpeg artifacts, watermark, signature"

STYLES: list[dict] = [
    {
        "name": "realistic",
        "description": "Photorealistic, like a professional photograph.",
        "prompt_template": "{prompt}, photorealistic, professional photography, natural textures, sharp focus, "
        "high detail",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, cartoon, illustration, painting",
    },
    {
        "name": "modern",
        "description": "Clean contemporary look: bold shapes, minimal composition.",
        "prompt_template": "{prompt}, modern contemporary style, clean lines, bold shapes, minimalist composition, "
        "crisp finish",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, cluttered, ornate",
    },
    {
        "name": "classic",
        "description": "Classical fine art: an old-master oil painting.",
        "prompt_template": "{prompt}, classical oil painting, old masters style, rich brushwork, chiaroscuro, "
        "museum quality",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, photograph, 3d render",
    },
    {
        "name": "abstract",
        "description": "Non-figurative: shapes, colour fields and texture.",
        "prompt_template": "abstract art inspired by {prompt}, expressive shapes, bold color fields, layered "
        "textures, non-representational",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, photorealistic",
    },
    {
        "name": "cartoon",
        "description": "Playful cartoon illustration with clean outlines.",
        "prompt_template": "{prompt}, cartoon illustration, clean outlines, flat vibrant colors, playful, "
        "expressive characters",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, photorealistic",
    },
    {
        "name": "anime",
        "description": "Japanese animation look.",
        "prompt_template": "{prompt}, anime style, cel shading, detailed linework, vivid colors, studio anime "
        "key visual",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, photorealistic, 3d render",
    },
    {
        "name": "watercolor",
        "description": "Loose watercolour on textured paper.",
        "prompt_template": "{prompt}, watercolor painting, soft washes, bleeding pigments, textured paper, "
        "delicate details",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, photograph, hard edges",
    },
    {
        "name": "digital-art",
        "description": "Polished digital painting, concept-art quality.",
        "prompt_template": "{prompt}, digital art, concept art, highly detailed, dramatic composition, "
        "trending on artstation",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}",
    },
    {
        "name": "3d-render",
        "description": "Rendered 3D scene with global illumination.",
        "prompt_template": "{prompt}, 3d render, octane render, global illumination, physically based materials, "
        "ultra detailed",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, flat, sketch",
    },
    {
        "name": "cinematic",
        "description": "A still from a film: anamorphic, colour graded.",
        "prompt_template": "cinematic film still of {prompt}, anamorphic lens, shallow depth of field, "
        "color graded, dramatic lighting",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, cartoon",
    },
    {
        "name": "vintage",
        "description": "Faded analogue photograph from decades ago.",
        "prompt_template": "{prompt}, vintage photograph, 1970s film, faded colors, film grain, nostalgic mood",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, modern, digital look",
    },
    {
        "name": "minimalist",
        "description": "Few elements, generous negative space.",
        "prompt_template": "{prompt}, minimalist, simple composition, generous negative space, limited palette",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, busy, cluttered",
    },
    {
        "name": "pixel-art",
        "description": "Retro video-game pixel art.",
        "prompt_template": "{prompt}, pixel art, 16-bit retro game style, limited palette, crisp pixels",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, smooth gradients, photorealistic",
    },
    {
        "name": "sketch",
        "description": "Pencil sketch on paper.",
        "prompt_template": "{prompt}, pencil sketch, graphite on paper, cross-hatching, hand-drawn lines",
        "negative_prompt_template": f"{{negative_prompt}}, {_COMMON_NEGATIVE}, color, photograph",
    },
]
for _order, _style in enumerate(STYLES):
    _style["sort_order"] = _order * 10

_FORMAT_DESCRIPTIONS = {
    "square_hd": "Square, high definition (1:1).",
    "square": "Square, standard definition (1:1).",
    "portrait_4_3": "Portrait, 3:4.",
    "portrait_16_9": "Portrait, 9:16 (phone screens, stories).",
    "landscape_4_3": "Landscape, 4:3.",
    "landscape_16_9": "Landscape, 16:9 (widescreen, banners).",
}
FORMATS: list[dict] = [
    {
        "name": name,
        "description": _FORMAT_DESCRIPTIONS.get(name, ""),
        "width": width,
        "height": height,
        "sort_order": order * 10,
    }
    for order, (name, (width, height)) in enumerate(SIZE_PRESETS.items())
]

PROMPT_EXAMPLES: list[dict] = [
    {
        "title": "Mountain lake at dawn",
        "category": "landscape",
        "prompt": "A still alpine lake at dawn reflecting snow-capped peaks, mist drifting over the water, "
        "pine trees on the shore, soft pink and gold light",
    },
    {
        "title": "Desert canyon at golden hour",
        "category": "landscape",
        "prompt": "A winding red sandstone canyon at golden hour, long shadows, a lone hiker for scale, "
        "wide-angle view",
    },
    {
        "title": "Elderly fisherman",
        "category": "portrait",
        "prompt": "Close-up portrait of an elderly fisherman with a weathered face and a knitted cap, "
        "harbour in the background, overcast light",
    },
    {
        "title": "Astronaut in a flower field",
        "category": "portrait",
        "prompt": "An astronaut in a white suit sitting in a field of wildflowers, helmet visor reflecting the sunset",
    },
    {
        "title": "Perfume bottle product shot",
        "category": "product",
        "prompt": "A faceted glass perfume bottle on a wet black stone, water droplets, soft rim light, "
        "dark studio background, product photography",
    },
    {
        "title": "Sneaker on a pastel backdrop",
        "category": "product",
        "prompt": "A white running sneaker floating above a pastel pink backdrop with a soft shadow below, "
        "clean commercial look",
    },
    {
        "title": "Red panda librarian",
        "category": "animals",
        "prompt": "A red panda wearing round glasses reading a book in a cosy library, warm lamplight, "
        "stacks of old books",
    },
    {
        "title": "Hummingbird and hibiscus",
        "category": "animals",
        "prompt": "A hummingbird hovering beside a red hibiscus flower, wings frozen mid-beat, macro detail",
    },
    {
        "title": "Rainy neon street",
        "category": "architecture",
        "prompt": "A narrow city street at night in the rain, neon signs reflected in puddles, people with umbrellas",
    },
    {
        "title": "Brutalist library interior",
        "category": "architecture",
        "prompt": "The interior of a brutalist concrete library with skylights, shafts of light, long "
        "wooden reading tables",
    },
    {
        "title": "Floating islands",
        "category": "fantasy",
        "prompt": "Floating islands with waterfalls spilling into clouds, an airship passing between them, epic scale",
    },
    {
        "title": "Dragon over a castle",
        "category": "fantasy",
        "prompt": "A bronze dragon circling a cliff-top castle at dusk, storm clouds, torches lit on the walls",
    },
    {
        "title": "Breakfast flat lay",
        "category": "food",
        "prompt": "Overhead flat lay of a breakfast table: croissants, berries, coffee and orange juice on "
        "linen, morning light",
    },
    {
        "title": "Ramen bowl",
        "category": "food",
        "prompt": "A steaming bowl of ramen with a soft-boiled egg, chashu and scallions, chopsticks lifting noodles",
    },
    {
        "title": "Geometric fox logo",
        "category": "design",
        "prompt": "A minimal geometric fox head logo made of orange triangles on a white background, flat vector",
    },
    {
        "title": "Solar system poster",
        "category": "design",
        "prompt": "A retro travel poster of the solar system with bold typography space and a limited palette",
    },
]

# Blank values mean "use the platform default" (for default_model: ATELIER_DEFAULT_MODEL).
SETTINGS: list[dict] = [
    {
        "name": "default_model",
        "value": "",
        "value_type": "string",
        "description": "Model used when a generation names none. Blank: the ATELIER_DEFAULT_MODEL setting.",
    },
    {
        "name": "default_format",
        "value": "png",
        "value_type": "string",
        "description": "Output file format when a generation names none: png, jpeg or webp.",
    },
    {
        "name": "default_steps",
        "value": "28",
        "value_type": "integer",
        "description": "Inference steps for models that take steps but define no default of their own (1-100).",
    },
    {
        "name": "prompt_enhancement_provider",
        "value": "auto",
        "value_type": "string",
        "description": "Who enhances prompts: auto (Anthropic, else OpenAI, whichever has a key, else offline), "
        "anthropic, openai or offline.",
    },
]
