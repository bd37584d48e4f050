"""What may import what (docs/architecture.md): the packages depend one way, Whoosh is
read in one place, and the web app only talks to the query API."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# the parts of indexer/search that read an index through Whoosh
SEARCH_WHOOSH_READERS = {
    "reader",
    "text",
    "patient_query",
    "partial",
    "scoring",
    "snippets",
    "concepts",
    "query_cost",
    "spelling",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join(package + ([node.module] if node.module else []))
    if node.module is None:  # from . import x: x may be a module
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """Modules imported by a file; top_level_only skips imports inside functions and
    under `if TYPE_CHECKING:` (they cannot make a cycle at import time)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = _module_name(path)
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                found.update(_resolve(module, node, is_package))
            elif isinstance(node, ast.If):
                if top_level_only and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
            elif not top_level_only:
                for child in ast.walk(node):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        visit([child])

    visit(tree.body)
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _is(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


ALL_FILES = _files("indexer") + _files("webapp")


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_whoosh_is_imported_only_where_an_index_is_read(path):
    parts = path.relative_to(ROOT).parts
    allowed = parts[:2] == ("indexer", "index") or (
        parts[:2] == ("indexer", "search") and path.stem in SEARCH_WHOOSH_READERS
    )
    if not allowed:
        assert not {n for n in _imports(path, False) if _is(n, "whoosh")}, _rel(path)


@pytest.mark.parametrize("path", _files("webapp"), ids=_rel)
def test_the_web_app_never_parses_pages(path):
    forbidden = (
        "indexer.pages.parse",
        "indexer.pages.sections",
        "indexer.pages.files",
        "frontmatter",
        "yaml",
    )
    imported = _imports(path, False)
    assert not {n for n in imported if any(_is(n, f) for f in forbidden)}, _rel(path)


@pytest.mark.parametrize("path", _files("indexer"), ids=_rel)
def test_the_indexer_never_imports_the_web_app_or_the_benchmarks(path):
    imported = _imports(path, False)
    assert not {n for n in imported if _is(n, "webapp") or _is(n, "bench")}, _rel(path)


@pytest.mark.parametrize(
    ("package", "not_allowed"),
    [
        ("indexer.pages", ("indexer.index", "indexer.search")),
        ("indexer.index", ("indexer.search",)),
        # the gazetteer is a leaf: pages, index and search all read places with it
        ("indexer.places", ("indexer.pages", "indexer.index", "indexer.search")),
    ],
)
def test_the_packages_depend_one_way(package, not_allowed):
    for path in _files(package.replace(".", "/")):
        imported = _imports(path, False)
        wrong = {n for n in imported if any(_is(n, p) for p in not_allowed)}
        assert not wrong, f"{_rel(path)} imports {sorted(wrong)}"


def test_there_are_no_import_cycles():
    modules = {_module_name(p): p for p in ALL_FILES}
    graph = {
        name: {
            target
            for imported in _imports(path, True)
            for target in (imported, imported.rsplit(".", 1)[0])
            if target in modules and target != name
        }
        for name, path in modules.items()
    }
    # a package's __init__ is imported with any of its modules: not an edge of its own
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    visiting: list[str] = []
    done: set[str] = set()

    def walk(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " → ".join(visiting[visiting.index(name) :] + [name])
        visiting.append(name)
        for target in sorted(graph[name]):
            walk(target)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        walk(name)


@pytest.mark.parametrize("path", ALL_FILES, ids=_rel)
def test_every_module_says_why_it_exists_and_stays_small(path):
    text = path.read_text(encoding="utf-8")
    if path.name == "__init__.py" and not text.strip():
        return
    assert ast.get_docstring(ast.parse(text)), f"{_rel(path)} has no docstring"
    # issue 19: modules stay under ~400 lines (build.py, the reindex recipe, is the largest)
    assert text.count("\n") <= 425, f"{_rel(path)} has {text.count(chr(10))} lines"


# what the web app (and any other surface) may use: the query API and the shared modules
FRONT_DOOR = ("indexer.search.query", "indexer.settings", "indexer.errors", "indexer.failpoints")


@pytest.mark.parametrize("path", _files("webapp"), ids=_rel)
def test_the_web_app_reaches_the_engine_only_through_the_query_api(path):
    imported = {n for n in _imports(path, False) if _is(n, "indexer")}
    wrong = {n for n in imported if not any(_is(n, allowed) for allowed in FRONT_DOOR)}
    assert not wrong, f"{_rel(path)} imports {sorted(wrong)}"
