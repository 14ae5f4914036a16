"""A generation's input images: uploads and URLs checked, normalised and kept with it."""
