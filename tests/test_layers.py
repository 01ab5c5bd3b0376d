"""The package's layers hold: imports flow one way, and modules stay small.

Every module of ``src/quaver`` is parsed (never imported) and its imports of
other Quaver modules collected, those inside functions included (they run
too), those under ``if TYPE_CHECKING:`` left out (they never run). A
relative import is resolved to the module it names; ``from . import x``
counts as importing the submodule ``x`` when there is one, and importing a
package counts as importing its ``__init__``. On that graph:

- there is no import circle;
- no module looks a Quaver module up by its name (``importlib.import_module``
  or ``__import__``) to dodge an import, except the Quart alias;
- no module is over 600 lines;
- the only imports inside functions are of modules outside the package
  (an optional dependency, loaded when used).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent / "src" / "quaver"
MAX_LINES = 600

#: Modules that may look Quaver modules up by name, each with the reason.
STRING_LOOKUPS_ALLOWED = {
    "quaver._quart_alias": "the Quart alias (quaver.as_quart): it hands out quaver.X for each quart.X, by name",
}
#: Modules any module may name by string, each with the reason (none so far).
NAMED_ON_PURPOSE: dict[str, str] = {}


@dataclass
class Import:
    """One import of a Quaver module: where it is, and whether it runs inside a function."""

    target: str
    line: int
    in_function: bool


@dataclass(repr=False)
class Module:
    name: str
    path: Path
    lines: int
    imports: list[Import] = field(default_factory=list)
    #: Imports inside functions of modules outside the package (allowed), for the record.
    deferred_outside: list[Import] = field(default_factory=list)
    #: ``(line, name or name prefix)`` of each lookup of a Quaver module by string.
    string_lookups: list[tuple[int, str]] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"<Module {self.name}>"


def module_name(root: Path, path: Path) -> str:
    """``quaver.testing.client`` for ``<root>/testing/client.py``; a package is its ``__init__``."""
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _Collector:
    """Walks one module's tree, collecting its imports and string lookups."""

    def __init__(self, module: Module, is_package: bool, known: set[str], top: str) -> None:
        self.module = module
        self.package = module.name if is_package else module.name.rpartition(".")[0]
        self.known = known
        self.top = top
        self.constants: dict[str, str] = {}

    def collect(self, tree: ast.Module) -> None:
        for node in tree.body:  # module-level string constants, for lookups naming one
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                if isinstance(node.value.value, str):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            self.constants[target.id] = node.value.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                    self.constants[node.target.id] = node.value.value
        self.constants["__name__"] = self.module.name
        self.constants["__package__"] = self.package
        self._walk(tree.body, in_function=False)

    def _walk(self, nodes: list[ast.stmt] | list[ast.AST], in_function: bool) -> None:
        for node in nodes:
            self._visit(node, in_function)

    def _visit(self, node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            self._walk(node.orelse, in_function)  # the body never runs
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for child in ast.iter_child_nodes(node):
                self._visit(child, in_function=True)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                self._record(alias.name, node.lineno, in_function)
        elif isinstance(node, ast.ImportFrom):
            self._import_from(node, in_function)
        elif isinstance(node, ast.Call):
            self._lookup(node)
        for child in ast.iter_child_nodes(node):
            self._visit(child, in_function)

    def _import_from(self, node: ast.ImportFrom, in_function: bool) -> None:
        if node.level:
            base = self.package.split(".")
            if node.level > 1:
                base = base[: -(node.level - 1)]
            source = ".".join(base + ([node.module] if node.module else []))
        else:
            source = node.module or ""
        names_other_than_modules = False
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.known:
                self._record(submodule, node.lineno, in_function)
            else:
                names_other_than_modules = True
        if names_other_than_modules:
            self._record(source, node.lineno, in_function)

    def _record(self, target: str, line: int, in_function: bool) -> None:
        found = Import(target, line, in_function)
        if target == self.top or target.startswith(self.top + "."):
            self.module.imports.append(found)
        elif in_function:
            self.module.deferred_outside.append(found)

    def _lookup(self, call: ast.Call) -> None:
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name not in ("import_module", "__import__") or not call.args:
            return
        prefix = self._known_prefix(call.args[0])
        if prefix == self.top or prefix.startswith(self.top + "."):
            self.module.string_lookups.append((call.lineno, prefix))

    def _known_prefix(self, node: ast.expr) -> str:
        """The start of the string ``node`` makes, as far as it is known without running the code."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id, "")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._known_prefix(node.left)
            known_whole = isinstance(node.left, ast.Constant) or (
                isinstance(node.left, ast.Name) and node.left.id in self.constants
            )
            return left + self._known_prefix(node.right) if known_whole else left
        if isinstance(node, ast.JoinedStr):
            prefix = ""
            for part in node.values:
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    prefix += part.value
                elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name):
                    if part.value.id not in self.constants:
                        break
                    prefix += self.constants[part.value.id]
                else:
                    break
            return prefix
        return ""


def read_package(root: Path = PACKAGE_ROOT) -> dict[str, Module]:
    """Each module of the package at ``root``, with what it imports."""
    paths = sorted(root.rglob("*.py"))
    names = {module_name(root, path): path for path in paths}
    top = root.name
    modules = {}
    for name, path in names.items():
        text = path.read_text(encoding="utf-8")
        module = Module(name, path, len(text.splitlines()))
        _Collector(module, path.name == "__init__.py", set(names), top).collect(ast.parse(text, str(path)))
        modules[name] = module
    return modules


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, Import]]:
    """Module -> the Quaver modules it imports (the first import of each)."""
    graph: dict[str, dict[str, Import]] = {}
    for name, module in modules.items():
        edges = graph.setdefault(name, {})
        for found in module.imports:
            if found.target != name and found.target in modules:
                edges.setdefault(found.target, found)
    return graph


def find_cycles(graph: dict[str, set[str]] | dict[str, dict[str, Import]]) -> list[list[str]]:
    """One circle through each group of modules that import one another
    (Tarjan's strongly connected components), as ``[a, b, ..., a]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def connect(node: str) -> None:  # recursive: the package has a few dozen modules
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_circle_in(graph, group) for group in groups]


def _circle_in(graph: dict[str, set[str]] | dict[str, dict[str, Import]], group: set[str]) -> list[str]:
    """The shortest circle from the group's first module back to itself, within the group."""
    start = min(group)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for other in sorted(graph.get(node, ())):
            if other == start:
                return paths[node] + [start]
            if other in group and other not in paths:
                paths[other] = paths[node] + [other]
                queue.append(other)
    raise AssertionError(f"no circle in {sorted(group)}")  # a strongly connected group always has one


def describe_circle(circle: list[str], graph: dict[str, dict[str, Import]]) -> str:
    steps = [circle[0]]
    for here, there in zip(circle, circle[1:], strict=False):
        found = graph[here][there]
        where = "inside a function" if found.in_function else "at the top"
        steps.append(f"  -> {there}  (line {found.line} of {here}, {where})")
    return "\n".join(steps)


def circle_failures(modules: dict[str, Module]) -> list[str]:
    graph = import_graph(modules)
    return [describe_circle(circle, graph) for circle in find_cycles(graph)]


def string_lookup_failures(modules: dict[str, Module]) -> list[str]:
    return [
        f"{name}, line {line}: looks up {named!r} by string"
        for name, module in sorted(modules.items())
        if name not in STRING_LOOKUPS_ALLOWED
        for line, named in module.string_lookups
        if named not in NAMED_ON_PURPOSE
    ]


def size_failures(modules: dict[str, Module]) -> list[str]:
    return [
        f"{name}: {module.lines} lines"
        for name, module in sorted(modules.items())
        if module.lines > MAX_LINES
    ]


def deferred_import_failures(modules: dict[str, Module]) -> list[str]:
    return [
        f"{name}, line {found.line}: imports {found.target} inside a function"
        for name, module in sorted(modules.items())
        for found in module.imports
        if found.in_function
    ]


@cache
def _quaver() -> dict[str, Module]:
    return read_package()


def test_every_module_is_read() -> None:
    assert {"quaver", "quaver.app", "quaver.cli", "quaver.commands", "quaver.testing.client"} <= set(_quaver())


def test_no_import_circle() -> None:
    circles = circle_failures(_quaver())
    assert not circles, "Import circles (an import inside a function runs too):\n\n" + "\n\n".join(circles)


def test_only_the_quart_alias_looks_modules_up_by_string() -> None:
    modules = _quaver()
    found = string_lookup_failures(modules)
    assert not found, "Quaver modules looked up by name instead of imported:\n" + "\n".join(found)


def test_no_module_is_over_600_lines() -> None:
    modules = _quaver()
    found = size_failures(modules)
    assert not found, f"Modules over {MAX_LINES} lines (split them by concept):\n" + "\n".join(found)


def test_imports_inside_functions_are_of_other_packages_only() -> None:
    modules = _quaver()
    found = deferred_import_failures(modules)
    assert not found, "Quaver modules imported inside a function (import them at the top):\n" + "\n".join(found)


# ----------------------------------------------------------------------
# The checks themselves, on made-up trees
# ----------------------------------------------------------------------
def test_cycle_finder_finds_each_circle_and_nothing_else() -> None:
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},  # a -> b -> c -> a
        "d": {"e"},
        "e": set(),
        "f": {"f"},  # a module importing itself
        "g": {"h", "e"},
        "h": {"g"},  # g <-> h
    }
    assert sorted(find_cycles(graph)) == [["a", "b", "c", "a"], ["f", "f"], ["g", "h", "g"]]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"a", "c"}}) == []


def _write(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    for relative, text in files.items():
        path = package / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_the_checks_see_function_imports_and_skip_type_checking_ones(tmp_path: Path) -> None:
    package = _write(
        tmp_path,
        {
            "__init__.py": "from .app import App\n",
            "app.py": "from typing import TYPE_CHECKING\nfrom . import cli\n"
            "if TYPE_CHECKING:\n    from .low import x\n",
            "cli.py": "def run():\n    from .low import helper\n    import readline\n",
            "low.py": "from importlib import import_module\nNAME = 'pkg.app'\n"
            "class Low:\n    def load(self):\n        from .app import App\n        return import_module(NAME)\n",
            "sub/__init__.py": "",
            "sub/deep.py": "from .. import low\nfrom ..sub import deep\nimport importlib\n"
            "importlib.import_module(f'{__package__}.plugin')\n" + "x = 1\n" * 600,
        },
    )
    modules = read_package(package)
    imports = {name: sorted((i.target, i.in_function) for i in module.imports) for name, module in modules.items()}
    assert imports == {
        "pkg": [("pkg.app", False)],
        "pkg.app": [("pkg.cli", False)],  # the TYPE_CHECKING import never runs
        "pkg.cli": [("pkg.low", True)],
        "pkg.low": [("pkg.app", True)],
        "pkg.sub": [],
        "pkg.sub.deep": [("pkg.low", False), ("pkg.sub.deep", False)],
    }
    assert [i.target for i in modules["pkg.cli"].deferred_outside] == ["readline"]
    assert circle_failures(modules) == [
        "pkg.app\n"
        "  -> pkg.cli  (line 2 of pkg.app, at the top)\n"
        "  -> pkg.low  (line 2 of pkg.cli, inside a function)\n"
        "  -> pkg.app  (line 5 of pkg.low, inside a function)"
    ]
    assert string_lookup_failures(modules) == [
        "pkg.low, line 6: looks up 'pkg.app' by string",
        "pkg.sub.deep, line 4: looks up 'pkg.sub.plugin' by string",
    ]
    assert size_failures(modules) == ["pkg.sub.deep: 604 lines"]
    assert deferred_import_failures(modules) == [
        "pkg.cli, line 2: imports pkg.low inside a function",
        "pkg.low, line 5: imports pkg.app inside a function",
    ]
