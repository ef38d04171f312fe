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


def package(module: str) -> str:
    """The stage a module belongs to: rag.<stage>, or rag.tools.<tool> for the tooling."""
    parts = module.split(".")
    return ".".join(parts[:3] if parts[1:2] == ["tools"] else parts[:2])


def test_no_module_or_package_imports_itself_round_a_circle():
    modules = module_imports()
    assert len(modules) > 50
    assert cycles(modules) == []
    packages: dict[str, set[str]] = {}
    for name, deps in modules.items():
        for dep in deps:
            one, other = package(name), package(dep)
            if one != other:
                packages.setdefault(one, set()).add(other)
    assert {"rag.index", "rag.tools.train", "rag.tools.evaluation"} <= packages.keys() and cycles(packages) == []


def test_settings_import_no_backend():
    code = ("import sys, rag.settings; print(sorted(m for m in sys.modules if m.startswith(('rag.index', "
            "'rag.answer', 'rag.embed', 'rag.retrieve', 'rag.api', 'numpy', 'torch', 'spacy'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


# Suites at the top of tests/ that cross every stage instead of testing one module.
CROSS_STAGE = {"crash", "fuzz", "hostile_inputs", "layout", "prompt_injection", "python_api", "readme", "security"}


def test_the_tests_mirror_the_packages():
    tests = ROOT / "tests"
    packages = [p.parent for p in PACKAGE.rglob("__init__.py") if p.parent != PACKAGE and "models" not in p.parts]
    assert len(packages) > 10
    for package in packages:
        assert list((tests / package.relative_to(PACKAGE)).rglob("test_*.py")), f"no tests/ folder for {package}"
    files = list(tests.rglob("test_*.py"))
    assert len(files) > 40
    for test in files:
        package = PACKAGE / test.parent.relative_to(tests)
        named = {path.stem for path in package.iterdir()} | {package.name}  # a module, a page, or the package
        if test.parent == tests:
            named |= CROSS_STAGE
        assert test.stem.removeprefix("test_") in named, f"{test.relative_to(ROOT)} names nothing in {package}"
