"""Modules executed on first use, so an entry point's import pays only for what its first request needs.

The API function is imported once per cold start, but botocore (pynamodb's models, S3 clients) and
urllib3 are needed only by the routes and checks that touch AWS or the network. `lazy_import` is the
recipe of the standard library's `importlib.util.LazyLoader`: the module object exists at once and
runs its code on the first attribute read. Callers keep a plain import under TYPE_CHECKING, so type
checks see the real module.
"""

import importlib.util
import sys
from types import ModuleType

# The class of a lazily imported module until its first attribute read (then a plain module again).
_LAZY_MODULE: type = importlib.util._LazyModule  # type: ignore[attr-defined]  # private, stable since 3.5


def lazy_import(name: str) -> ModuleType:
    """`name`'s module: the one already imported, or one that executes on its first attribute access."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"no module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    # As a plain import does: `from package import name` elsewhere finds the same module object.
    parent, _, child = name.rpartition(".")
    if parent:
        setattr(sys.modules[parent], child, module)
    return module


def load_pending() -> None:
    """Run every lazily imported module that has not run yet (and those their code imports lazily)."""
    while pending := [m for m in list(sys.modules.values()) if isinstance(m, _LAZY_MODULE)]:
        for module in pending:
            getattr(module, "__file__", None)  # any attribute read runs the module
