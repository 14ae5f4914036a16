"""Reading a generation's stored inputs back, for the worker that builds the provider job."""

from generation.models import Generation, GenerationInput


def generation_input_data(*, generation: Generation) -> dict[str, bytes]:
    """The PNG bytes of each stored input by role (``image``, ``mask``); empty when it has none."""
    data = {}
    for row in GenerationInput.objects.filter(generation=generation):
        with row.file.open("rb") as handle:
            data[row.role] = handle.read()
    return data
