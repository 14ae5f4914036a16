"""In-progress pictures: delivery to watchers and the local renderer's cost (see __main__)."""
