"""The package's shape: stages import earlier stages, never the other way round, and settings import no backend."""

import ast
import subprocess
import sys

from tests.conftest import ROOT

PACKAGE = ROOT / "rag"


def module_imports() -> dict[str, set[str]]:
    """Each module's rag imports at module level (imports inside functions load lazily, on use)."""
    imports = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag"):
                found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names if alias.name.startswith("rag")}
        imports[name] = found
    return {name: {d for d in deps if d in imports and d != name} for name, deps in imports.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found = []
    for start in sorted(graph):
        stack = [[start]]
        while stack:
            path = stack.pop()
            for following in sorted(graph.get(path[-1], ())):
                if following == start:
                    found.append(path)
                elif following not in path:
                    stack.append(path + [following])
    return found


def test_no_module_or_package_imports_itself_round_a_circle():
    modules = module_imports()
    assert len(modules) > 50
    assert cycles(modules) == []
    packages: dict[str, set[str]] = {}
    for name, deps in modules.items():
        for dep in deps:
            one, other = ".".join(name.split(".")[:2]), ".".join(dep.split(".")[:2])
            if one != other:
                packages.setdefault(one, set()).add(other)
    assert "rag.index" in packages and cycles(packages) == []


def test_settings_import_no_backend():
    code = ("import sys, rag.settings; print(sorted(m for m in sys.modules if m.startswith(('rag.index', "
            "'rag.answer', 'rag.embed', 'rag.retrieve', 'rag.api', 'numpy', 'torch', 'spacy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
