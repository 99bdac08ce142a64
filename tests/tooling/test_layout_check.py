"""tools/layout_check.py: the layout guard of `make lint`, on small fake package trees."""

import importlib.util
import subprocess
import sys
from pathlib import Path

from tests.testkit import REPO as ROOT

SCRIPT = ROOT / "tools" / "layout_check.py"


def _load():
    spec = importlib.util.spec_from_file_location("layout_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


layout_check = _load()


def make_tree(root: Path, files: dict[str, str], pyproject: str = "") -> Path:
    """A fake checkout: ``edgecnn/`` with the given modules (every folder a package)."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in [root / "edgecnn", *(root / "edgecnn").rglob("*")]:
        if folder.is_dir() and not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text("")
    if pyproject:
        (root / "pyproject.toml").write_text(pyproject)
    return root


def run_check(root: Path, capsys) -> tuple[int, list[str]]:
    code = layout_check.main([str(root)])
    return code, capsys.readouterr().out.splitlines()


def test_a_clean_tree_prints_one_ok_line(tmp_path, capsys):
    make_tree(tmp_path, {"edgecnn/core/a.py": "import os", "edgecnn/core/b.py": "from . import a"})
    code, lines = run_check(tmp_path, capsys)
    assert code == 0
    assert lines == [
        "layout: ok (4 modules, 0 loops, 0 modules over 300 lines, 0 ignored imports)"
    ]


def test_a_two_module_loop_is_named_with_its_file_and_line(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/core/a.py": '"""A."""\n\nfrom edgecnn.core import b\n',
        "edgecnn/core/b.py": "from edgecnn.core.a import thing\n",
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == [
        "edgecnn/core/a.py:3: import loop edgecnn.core.a -> edgecnn.core.b -> edgecnn.core.a"
    ]


def test_a_three_module_loop_through_relative_imports(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/x/a.py": "from .b import f\n",
        "edgecnn/x/b.py": "from ..y import c\n",
        "edgecnn/y/c.py": "import edgecnn.x.a\n",
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == [
        "edgecnn/x/a.py:1: import loop edgecnn.x.a -> edgecnn.x.b -> edgecnn.y.c -> edgecnn.x.a"
    ]


def test_an_import_inside_a_function_counts(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/a.py": "import edgecnn.b\n",
        "edgecnn/b.py": "def late():\n    from edgecnn.a import x\n    return x\n",
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == ["edgecnn/a.py:1: import loop edgecnn.a -> edgecnn.b -> edgecnn.a"]


def test_an_import_under_type_checking_counts(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/a.py": "import typing\nif typing.TYPE_CHECKING:\n    from edgecnn.b import B\n",
        "edgecnn/b.py": "from edgecnn import a\n",
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == ["edgecnn/a.py:3: import loop edgecnn.a -> edgecnn.b -> edgecnn.a"]


def test_a_package_reexporting_its_children_is_not_a_loop(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/pkg/__init__.py": "from edgecnn.pkg.child import thing\nfrom . import other\n",
        "edgecnn/pkg/child.py": "from edgecnn.pkg import helper\n",
        "edgecnn/pkg/other.py": "import os\n",
        "edgecnn/pkg/helper.py": "",
        "edgecnn/_boards/loop.py": "from edgecnn._boards import loop\n",
    })  # fmt: skip
    assert run_check(tmp_path, capsys)[0] == 0


def test_a_child_importing_the_package_that_reexports_it_is_a_loop(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/pkg/__init__.py": "from . import other\n",
        "edgecnn/pkg/other.py": "def f():\n    import edgecnn.pkg\n",
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert any("edgecnn.pkg" in line and "edgecnn.pkg.other" in line for line in lines), lines


def test_a_long_module_is_named_but_a_model_builder_may_be_long(tmp_path, capsys):
    long = "x = 1\n" * 301
    make_tree(tmp_path, {
        "edgecnn/device/big.py": long,
        "edgecnn/device/edge.py": "x = 1\n" * 300,
        "edgecnn/training/models/zoo.py": long,
    })  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == ["edgecnn/device/big.py: 301 lines, over the limit of 300"]


def test_an_ignored_import_in_a_contract_is_named(tmp_path, capsys):
    pyproject = """
[tool.importlinter]
root_package = "edgecnn"

[[tool.importlinter.contracts]]
id = "layers"
type = "layers"
layers = ["b", "a"]
ignore_imports = ["edgecnn.a.x -> edgecnn.b"]

[[tool.importlinter.contracts]]
id = "clean"
type = "forbidden"
ignore_imports = []
"""
    make_tree(tmp_path, {"edgecnn/a.py": ""}, pyproject)
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert lines == [
        "pyproject.toml: contract 'layers' ignores the import 'edgecnn.a.x -> edgecnn.b'"
    ]


def test_every_kind_of_problem_is_listed_at_once(tmp_path, capsys):
    make_tree(tmp_path, {
        "edgecnn/a.py": "import edgecnn.b\n" + "x = 1\n" * 300,
        "edgecnn/b.py": "import edgecnn.a\n",
    }, '[[tool.importlinter.contracts]]\nid = "c"\nignore_imports = ["p -> q"]\n')  # fmt: skip
    code, lines = run_check(tmp_path, capsys)
    assert code == 1
    assert [line.split(":")[0] for line in lines] == [
        "edgecnn/a.py", "edgecnn/a.py", "pyproject.toml"
    ]  # fmt: skip


def test_the_real_tree_is_clean():
    out = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.startswith("layout: ok (") and ", 0 loops," in out.stdout
