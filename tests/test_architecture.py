"""The layout's rules, checked on the source (docs/architecture.md, "Import rules"):

* a package imports only the packages below it (LAYERS), so there is no import cycle between packages;
* no module imports another of its package in a cycle (at module level);
* an import inside a function says why it cannot be at the top (`# lazy: <reason>`), unless it is an
  `AppConfig.ready()` connecting the app's declarations and receivers (Django's own convention);
* modules stay short enough to read in one sitting, and functions too (schema literals aside);
* every task a service queues by name (`core.queue`) is one a worker registers.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Top to bottom: each package may import only those after it (and itself).
LAYERS = (
    "registry",  # the project: settings, URLs, the Celery app
    "portal",  # the web pages for people: the API's serializers for input, the same services and selectors
    "api",  # the HTTP surface (people's API and node-to-node endpoints)
    "interop",  # catalogs outside the network (CKAN, DCAT): mapping of the domain apps, harvesting in
    "deals",  # deals build on demands (a deal may take up a response's terms)
    "demands",  # domain apps, each above the ones it builds on
    "quality",  # quality reports about products; products' recognition consults it through a hook
    "products",
    "participants",
    "accounts",
    "exchanges",
    "federation",  # the mechanism: knows no domain app
    "standards",  # the network's shared rules: know no app
    "core",  # small shared tools: import nothing of the project's
)
RANK = {package: rank for rank, package in enumerate(LAYERS)}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
# Functions that are one literal (a schema, a table) rather than logic.
LITERALS = {"standards.descriptor_schema.schema"}


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


@cache
def tree(name: str) -> ast.Module:
    return ast.parse(modules()[name].read_text("utf-8"), filename=str(modules()[name]))


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The project modules an import statement names (a `from x import y` of a submodule names x.y)."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if modules()[module].name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, base] if base else package)
        targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
    known = modules()
    return [t for t in targets if t in known or (t.split(".")[0] in RANK and t in known)]


class _Imports(ast.NodeVisitor):
    """Module-level and in-function imports of one module, with the source line of each."""

    def __init__(self, module: str):
        self.module = module
        self.top: list[tuple[ast.stmt, str]] = []
        self.inner: list[tuple[ast.stmt, str, str]] = []  # (node, target, enclosing function)
        self._function: list[str] = []
        self._class: list[str] = []

    def _add(self, node):
        for target in _resolve(self.module, node):
            if self._function:
                self.inner.append((node, target, ".".join(self._class + self._function)))
            else:
                self.top.append((node, target))

    visit_Import = visit_ImportFrom = _add

    def visit_FunctionDef(self, node):
        self._function.append(node.name)
        self.generic_visit(node)
        self._function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self._class.append(node.name)
        self.generic_visit(node)
        self._class.pop()


@cache
def imports(name: str) -> _Imports:
    found = _Imports(name)
    found.visit(tree(name))
    return found


def _package(module: str) -> str:
    return module.split(".")[0]


def test_every_package_imports_only_the_layers_below_it():
    upward = []
    for module in modules():
        found = imports(module)
        edges = [(node, target) for node, target in found.top] + [(n, t) for n, t, _ in found.inner]
        for node, target in edges:
            if RANK[_package(target)] < RANK[_package(module)]:
                upward.append(f"{module}:{node.lineno} imports {target}")
    assert not upward, "imports of a layer above:\n" + "\n".join(sorted(set(upward)))


def test_no_module_imports_its_own_package_in_a_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for module in modules():
        for _, target in imports(module).top:
            if target != module and _package(target) == _package(module):
                graph[module].add(target)
    cycles = _cycles(graph)
    assert not cycles, "module import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_an_import_inside_a_function_says_why():
    lines = {module: path.read_text("utf-8").splitlines() for module, path in modules().items()}
    unexplained = []
    for module in modules():
        for node, _, where in imports(module).inner:
            if where.endswith("Config.ready"):
                continue  # Django's place to load an app's declarations and connect its receivers
            text = lines[module][node.lineno - 1]
            if "# lazy:" not in text:
                unexplained.append(f"{module}:{node.lineno} in {where}: {text.strip()}")
    assert not unexplained, "imports inside functions without '# lazy: <reason>':\n" + "\n".join(unexplained)


def test_modules_and_functions_stay_short():
    long_modules, long_functions = [], []
    for module, path in modules().items():
        if ".migrations." in module:
            continue
        count = len(path.read_text("utf-8").splitlines())
        if count > MAX_MODULE_LINES:
            long_modules.append(f"{module}: {count} lines")
        for node in ast.walk(tree(module)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{module}.{node.name}" not in LITERALS:
                    long_functions.append(f"{module}.{node.name}: {length} lines")
    assert not long_modules and not long_functions, "\n".join(long_modules + long_functions)


def _queued_names() -> list[tuple[str, str]]:
    found = []
    for module in modules():
        for node in ast.walk(tree(module)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"enqueue", "enqueue_on_commit"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.append((f"{module}:{node.lineno}", node.args[0].value))
    return found


def test_every_task_queued_by_name_is_registered():
    from registry.celery import app

    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)
    queued = _queued_names()
    assert len(queued) >= 6  # the check itself sees the calls
    unknown = [f"{where}: {name}" for where, name in queued if name not in app.tasks]
    assert not unknown, unknown


@pytest.mark.parametrize("package", ["federation", "standards", "core"])
def test_the_lower_layers_name_no_domain_app(package):
    """Spelled out for the three the rest stands on: the mechanism, the standards and the tools."""
    domain = {"demands", "products", "participants", "accounts", "exchanges", "api", "registry"}
    named = sorted(
        {
            f"{module} -> {target}"
            for module in modules()
            if _package(module) == package
            for target in [t for _, t in imports(module).top] + [t for _, t, _ in imports(module).inner]
            if _package(target) in domain
        }
    )
    assert not named, named
