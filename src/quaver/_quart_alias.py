"""The machinery of the Quart alias (:mod:`quaver.as_quart`): a finder that
hands out Quaver's modules under Quart's names. ``install()`` switches it on;
importing :mod:`quaver.as_quart` calls it, and so does the command line when
asked (``quaver --as-quart``, ``QUAVER_AS_QUART=1``), so it can import this
module without switching the alias on. The one module that looks Quaver's
modules up by name, and nothing below the command line imports it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ("QuartAlreadyImported", "QuartFinder", "install", "installed")

ALIAS = "quart"
TARGET = "quaver"

#: Quart's names for Quaver's objects, per module (added only under the alias).
QUART_NAMES: dict[str, dict[str, str]] = {
    "quaver": {"Quart": "Quaver"},
    "quaver.app": {"Quart": "Quaver"},
    "quaver.testing": {"QuartClient": "QuaverClient", "QuartCliRunner": "QuaverCliRunner"},
    "quaver.testing.client": {"QuartClient": "QuaverClient"},
    "quaver.routing": {"QuartRule": "QuaverRule", "QuartMap": "QuaverMap"},
    "quaver.cli": {"QuartGroup": "QuaverGroup"},
}


class QuartAlreadyImported(ImportError):
    """The real Quart was imported before ``quaver.as_quart``: two frameworks
    would share one process, each with its own contexts."""


def _target(fullname: str) -> str | None:
    if fullname == ALIAS:
        return TARGET
    if fullname.startswith(ALIAS + "."):
        return TARGET + fullname[len(ALIAS) :]
    return None


class _SameModule(importlib.abc.Loader):
    """Hands out Quaver's already imported module under Quart's name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import system stamped Quart's spec on the module: give it its own back.
        module.__spec__ = self.spec
        module.__loader__ = self.spec.loader if self.spec is not None else None


class QuartFinder(importlib.abc.MetaPathFinder):
    """Finds ``quart`` and ``quart.*`` as ``quaver`` and ``quaver.*``."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        name = _target(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name == name:
                return None  # Quart has a module Quaver lacks: a plain ImportError follows
            raise
        _add_quart_names(module)
        spec = importlib.machinery.ModuleSpec(fullname, _SameModule(module), is_package=hasattr(module, "__path__"))
        return spec


def _add_quart_names(module: ModuleType) -> None:
    for quart_name, quaver_name in QUART_NAMES.get(module.__name__, {}).items():
        if hasattr(module, quaver_name) and not hasattr(module, quart_name):
            setattr(module, quart_name, getattr(module, quaver_name))


def _loaded_quart() -> list[str]:
    """Names of the real Quart's modules already in ``sys.modules``."""
    loaded = []
    for name, module in list(sys.modules.items()):
        if _target(name) is None or module is None:
            continue
        if not getattr(module, "__name__", "").startswith(TARGET):
            loaded.append(name)
    return sorted(loaded)


def _users_of(quart_modules: list[str]) -> list[str]:
    """Loaded modules, other than Quart's own, holding a Quart module or object."""
    users = []
    for name, module in list(sys.modules.items()):
        if module is None or _target(name) is not None or name in (__name__, "quaver.as_quart"):
            continue
        try:
            values = list(vars(module).values())
        except TypeError:
            continue
        for value in values:
            owner = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
            if isinstance(owner, str) and _target(owner) is not None and owner in quart_modules:
                users.append(name)
                break
    return sorted(users)


def _refuse_if_quart_loaded() -> None:
    loaded = _loaded_quart()
    if not loaded:
        return
    message = "the real Quart is already imported (" + ", ".join(loaded) + ")"
    users = _users_of(loaded)
    if users:
        message += "; imported by " + ", ".join(users)
    message += ". Import quaver.as_quart before anything that imports quart."
    raise QuartAlreadyImported(message)


def installed() -> bool:
    """Whether the alias is in place in this process."""
    return any(isinstance(finder, QuartFinder) for finder in sys.meta_path)


def install() -> None:
    """Put the alias in place (idempotent); importing quaver.as_quart calls it."""
    if installed():
        return
    _refuse_if_quart_loaded()
    config = importlib.import_module(TARGET + ".config")
    setattr(config, "ENV_PREFIX", "QUART")  # noqa: B010 (a module named by string)
    sys.meta_path.insert(0, QuartFinder())
