"""The seed documents' request and response shapes, at their documented paths (DESIGN.md §5).

One module per seed, each a thin mapping of that seed's requests onto the canonical services
and of their results onto that seed's answers; ``legacy.urls`` mounts every route. This package
sits on the top floor: it may import any app, and no app imports it.
"""
