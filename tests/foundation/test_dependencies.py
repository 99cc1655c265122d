"""Every third-party package the code imports is declared in pyproject.toml, so a fresh
`pip install -e .` (scripts/setup.sh, the Dockerfile) gets it: the app's code needs it in
`dependencies`, the tests may also use the `test` extra, the benchmarks the `bench` extra."""
import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCOPES = {  # folder → the extras its imports may come from, besides `dependencies`
    "app": (), "forms": (), "workers": (), "sandbox": (), "migrations": (), "scripts": (),
    "tests": ("test",), "bench": ("bench",),
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(extras: tuple[str, ...]) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {normalise(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def is_local(module: str, path: Path) -> bool:
    return any((folder / module).is_dir() or (folder / f"{module}.py").is_file() for folder in (ROOT, path.parent))


def undeclared() -> dict[str, set[str]]:
    distributions = importlib.metadata.packages_distributions()
    missing = {}
    for folder, extras in SCOPES.items():
        allowed = declared(extras)
        for path in (ROOT / folder).rglob("*.py"):
            for module in imported_modules(path):
                if module in sys.stdlib_module_names or module == "__future__" or is_local(module, path):
                    continue
                # a package not installed here (a bench-only one) is named as it is imported
                dists = {normalise(d) for d in distributions.get(module, [module])}
                if not dists & allowed:
                    missing.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    return missing


def test_every_imported_package_is_declared():
    assert undeclared() == {}


def test_the_check_sees_an_undeclared_import(tmp_path, monkeypatch):
    """The check itself: an import of a package pyproject.toml does not name is caught."""
    fake = tmp_path / "app"
    fake.mkdir()
    (fake / "x.py").write_text("import lxml.etree\nimport yaml\nfrom app.extensions import db\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\ndependencies = ["lxml>=5"]\n[project.optional-dependencies]\ntest = []\nbench = []\n',
        encoding="utf-8")
    for folder in SCOPES:
        (tmp_path / folder).mkdir(exist_ok=True)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert undeclared() == {"yaml": {"app/x.py"}}
