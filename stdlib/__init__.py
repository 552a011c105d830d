"""The rolegraph standard library: `.agent` modules of standard types and patterns."""

from importlib import resources
from pathlib import Path


def module_path(name: str) -> Path:
    """The path of the stdlib module `std.<name>` (e.g. `types` → `.../stdlib/types.agent`)."""
    return Path(str(resources.files(__name__).joinpath(f"{name}.agent")))


def module_names() -> list[str]:
    """The names of all stdlib modules, sorted."""
    root = resources.files(__name__)
    return sorted(p.name[: -len(".agent")] for p in root.iterdir() if p.name.endswith(".agent"))
