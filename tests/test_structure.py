"""The shape of the code: one import name, a kernel that imports nothing else of the project, plugin
families that never import the app, no import circle; and an installed wheel holds `vendorscan` alone."""
import ast
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

from conftest import OUTSIDE, ROOT

# The package's folders, as pyproject.toml's package-dir maps them.
FOLDERS = {"vendorscan": "vendorscan", "vendorscan.agent": "agent", "vendorscan.checks": "checks",
           "vendorscan.connectors": "connectors", "vendorscan.reports": "reports", "vendorscan.formats": "formats"}
FAMILIES = ("vendorscan.checks", "vendorscan.connectors", "vendorscan.reports", "vendorscan.formats")
OLD_NAMES = ("agent", "checks", "connectors", "reports", "formats")


def _modules() -> dict[str, Path]:
    found = {}
    for package, folder in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            found[".".join([package, *parts])] = path
    return found


MODULES = _modules()


def _imports(path: Path, name: str) -> set[str]:
    """Project modules a module imports, at any depth of its code (lazy imports inside functions too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for a in node.names:
                full = f"{base}.{a.name}"
                out.add(full if full in MODULES else base)
    return {m for m in out if m in MODULES or m.split(".")[0] in OLD_NAMES}


GRAPH = {name: _imports(path, name) for name, path in MODULES.items()}


def _kernel(name: str) -> bool:
    return name.startswith("vendorscan") and name.count(".") <= 1 and not any(
        name == p or name.startswith(p + ".") for p in (*FAMILIES, "vendorscan.agent", "vendorscan.demo"))


def test_nothing_imports_the_old_top_level_names():
    bad = {m: sorted(i for i in imps if i.split(".")[0] in OLD_NAMES) for m, imps in GRAPH.items()}
    assert not {m: i for m, i in bad.items() if i}, "import vendorscan.…, never a top-level agent/checks/…"


def test_the_kernel_imports_nothing_else_of_the_project():
    kernel = [m for m in GRAPH if _kernel(m)]
    assert {"vendorscan.model", "vendorscan.context", "vendorscan.plugins", "vendorscan.errors"} <= set(kernel)
    bad = {m: sorted(i for i in GRAPH[m] if not _kernel(i)) for m in kernel}
    assert not {m: i for m, i in bad.items() if i}


def test_no_plugin_family_imports_the_app():
    bad = {m: sorted(i for i in imps if i.startswith(("vendorscan.agent", "vendorscan.demo")))
           for m, imps in GRAPH.items() if m.startswith(FAMILIES)}
    assert not {m: i for m, i in bad.items() if i}


def test_no_import_circle():
    # Tarjan-free: a depth-first search that reports the first cycle it meets, as a path.
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for n in sorted(GRAPH.get(m, ())):
            if n == m or n.startswith(m + "."):  # a package importing its own modules is not a circle
                continue
            if state.get(n) == 1:
                raise AssertionError("import circle: " + " -> ".join(path[path.index(n):] + [n]))
            if n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m, [m])


def test_an_installed_wheel_holds_one_top_level_package_and_scans(tmp_path):
    """pip's wheel of the project, installed into a fresh venv (its dependencies taken from the test venv):
    only vendorscan/ in site-packages, and its `vendorscan` command scans and runs the demo."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("vendorscan-*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist()}
    assert {t for t in tops if not t.endswith((".dist-info", ".data"))} == {"vendorscan"}
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    site = next(env_dir.glob("lib/python*/site-packages"))
    deps = next(p for p in sys.path if p.endswith("site-packages") and Path(p, "jinja2").exists())
    (site / "test-deps.pth").write_text(deps + "\n")  # a plain path: the editable install's finder stays out
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "-q",
                    "--no-deps", str(wheel)], check=True, capture_output=True, timeout=600)
    probe = subprocess.run([str(env_dir / "bin" / "python"), "-c", "import vendorscan.checks.identifiers as i, "
                            "vendorscan; print(vendorscan.__file__, i._compiled is not None)"],
                           capture_output=True, text=True, cwd=OUTSIDE, timeout=120)
    assert probe.stdout.startswith(str(site)) and probe.stdout.split()[-1] == "True", probe.stdout + probe.stderr
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "hr.csv").write_text("personnummer 850412-1230\n")
    command = str(env_dir / "bin" / "vendorscan")
    scan = subprocess.run([command, "scan", str(tree), "--out", str(tmp_path / "o"), "--state-dir",
                           str(tmp_path / "s"), "--quiet", "--fail-on", "medium"], capture_output=True, text=True, cwd=OUTSIDE, timeout=300)
    assert scan.returncode == 1 and (tmp_path / "o" / "report.json").exists(), scan.stdout + scan.stderr
    demo = subprocess.run([command, "demo", "--estate", str(tmp_path / "estate"), "--quiet"], capture_output=True,
                          text=True, cwd=OUTSIDE, timeout=600, env={**os.environ, "VENDORSCAN_STATE": str(tmp_path)})
    assert demo.returncode == 1 and (tmp_path / "demo-report" / "report.html").exists(), demo.stdout + demo.stderr


def test_every_skip_reason_the_code_gives_is_declared_once():
    """Skips carry a reason from vendorscan/skips.py: its 'incomplete' flag decides the exit code."""
    from vendorscan.skips import REASONS
    position = {"Skipped": 1, "ResourceError": 0, "Problem": 0}
    given = {}
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values = []
            if isinstance(node, ast.Call):
                func = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if func in position and len(node.args) > position[func]:
                    values.append(node.args[position[func]])
                values += [k.value for k in node.keywords if k.arg == "reason"]
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "reason" for t in node.targets):
                values.append(node.value)
            for v in values:
                for c in ast.walk(v):
                    if isinstance(c, ast.Constant) and isinstance(c.value, str) and c.value.islower() and " " not in c.value:
                        given.setdefault(c.value, name)
    assert len(given) > 20
    assert {r: m for r, m in given.items() if r not in REASONS} == {}
