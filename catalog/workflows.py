"""ComfyUI workflow templates: checking one, and filling its slots for a generation."""

import copy

from catalog.models import WorkflowTemplate
from core.errors import ValidationFailed

# Slot name → the type its value is given as in the graph.
SLOT_TYPES: dict[str, type] = {
    "prompt": str,
    "negative_prompt": str,
    "checkpoint": str,
    "width": int,
    "height": int,
    "batch_size": int,
    "seed": int,
    "steps": int,
    "cfg": float,
}
REQUIRED_SLOTS = ("prompt",)


def workflow_template_check(*, template: WorkflowTemplate) -> None:
    """Refuses a graph that is not in API format or a slot that names no node input."""
    graph, slots = template.graph, template.slots
    if not isinstance(graph, dict) or not graph:
        raise ValidationFailed(details={"graph": ["Give the workflow in ComfyUI's API format: an object of nodes."]})
    for node_id, node in graph.items():
        if not (
            isinstance(node, dict) and isinstance(node.get("class_type"), str) and isinstance(node.get("inputs"), dict)
        ):
            raise ValidationFailed(
                details={
                    "graph": [f"Node {node_id} needs a class_type and inputs (export the workflow in API format)."]
                }
            )
    if not isinstance(slots, dict):
        raise ValidationFailed(details={"slots": ["Slots must map a slot name to [node_id, input_name]."]})
    errors = []
    for name in REQUIRED_SLOTS:
        if name not in slots:
            errors.append(f"The '{name}' slot is required.")
    for name, target in slots.items():
        if name not in SLOT_TYPES:
            errors.append(f"Unknown slot '{name}'. Use: {', '.join(SLOT_TYPES)}.")
            continue
        if not (isinstance(target, list) and len(target) == 2 and all(isinstance(part, str) for part in target)):
            errors.append(f"Slot '{name}' must be [node_id, input_name].")
            continue
        node_id, input_name = target
        if node_id not in graph:
            errors.append(f"Slot '{name}' names node {node_id}, which is not in the graph.")
        elif input_name not in graph[node_id]["inputs"]:
            errors.append(f"Slot '{name}': node {node_id} has no input '{input_name}'.")
    if errors:
        raise ValidationFailed(details={"slots": errors})


def workflow_render(*, template: WorkflowTemplate, values: dict) -> dict:
    """The template's graph with each slot set to its value; a value of None keeps the graph's own."""
    graph = copy.deepcopy(template.graph)
    for name, (node_id, input_name) in template.slots.items():
        value = values.get(name)
        if value is None or (name == "checkpoint" and not value):
            continue
        graph[node_id]["inputs"][input_name] = SLOT_TYPES[name](value)
    return graph
