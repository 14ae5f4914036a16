"""No project module imports another module's private (underscore-prefixed) names.

Every module of every project package is parsed, and each ``from … import _name`` is checked,
at module level and inside functions alike: a name another module keeps private is its own
business, and what two modules share is given a public name in the one that owns it.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Imports still waiting for their owner to give the name a public spelling:
# (importing module, imported module, name).
ALLOWED: set[tuple[str, str, str]] = set()


def project_packages() -> list[str]:
    """The top-level packages of the project (the tests are not part of it)."""
    return sorted(path.name for path in ROOT.iterdir() if (path / "__init__.py").is_file() and path.name != "tests")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_module(node: ast.ImportFrom, *, module: str, is_package: bool) -> str:
    """The absolute name of the module ``node`` imports from (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_imports() -> set[tuple[str, str, str]]:
    packages = set(project_packages())
    found = set()
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            module = module_name(path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.ImportFrom):
                    continue
                source = imported_module(node, module=module, is_package=path.name == "__init__.py")
                if source.split(".")[0] not in packages or source == module:
                    continue
                found.update((module, source, alias.name) for alias in node.names if is_private(alias.name))
    return found


def test_the_scan_sees_every_project_package():
    assert {"ops", "generation", "training", "webhooks", "credits", "config"} <= set(project_packages())


def test_no_module_imports_another_modules_private_names():
    found = private_imports()
    unexpected = sorted(found - ALLOWED)
    assert not unexpected, "Private names imported across modules (give them a public name in their module):\n" + (
        "\n".join(f"{module}: from {source} import {name}" for module, source, name in unexpected)
    )
    stale = sorted(ALLOWED - found)
    assert not stale, f"These allowed imports are gone; take them off ALLOWED: {stale}"


def test_the_scan_catches_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from generation.providers import _REGISTRY\n")
    node = next(node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))
    assert imported_module(node, module="ops.queues", is_package=False) == "generation.providers"
    assert is_private(node.names[0].name)


def test_relative_imports_are_resolved_against_the_importing_module():
    tree = ast.parse("from ..delivery import _is_s3\nfrom . import views\n")
    first, second = (node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))
    assert imported_module(first, module="gallery.api.ranges", is_package=False) == "gallery.delivery"
    assert imported_module(second, module="gallery.api", is_package=True) == "gallery.api"
    assert not is_private("__all__")
