"""The distribution is complete: the wheel carries the LocalStack extension, its pins and py.typed, and an
install outside the repo finds them through importlib.resources (no checkout, no PYTHONPATH)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import dsplatform
from dsplatform.hashing import source_files

ROOT = Path(__file__).resolve().parents[2]
_MODULE_FROM = {"botocore": "boto3", "yaml": "pyyaml"}  # import name -> the distribution that brings it


def _pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def wheel(dsplatform_wheel: Path) -> Path:
    """The wheel built once per session (tests/conftest.py)."""
    return dsplatform_wheel


def test_every_package_folder_is_listed_for_the_wheel() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("dsplatform", "blueprints", "harness")
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml, or the wheel lacks them"
    mapped = set(_pyproject()["tool"]["setuptools"]["package-dir"])  # folders shipped under another name
    gone = sorted(listed - on_disk - mapped)
    assert not gone, f"remove {gone} from [tool.setuptools] packages in pyproject.toml: no such package folder"


def test_version_has_one_source() -> None:
    project = _pyproject()
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "dsplatform.__version__"}
    assert "\n## [Unreleased]\n" in (ROOT / "CHANGELOG.md").read_text()


def test_harness_extra_brings_what_the_harness_imports_and_dev_includes_it() -> None:
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    names = {req.split(">")[0].split("=")[0].split("[")[0].strip().lower()
             for req in [*project["dependencies"], *extras["harness"]]}
    names |= {module for module, dist in _MODULE_FROM.items() if dist in names}
    imported = set()
    for module in (ROOT / "harness").rglob("*.py"):
        for line in module.read_text().splitlines():
            words = line.strip().split()
            if len(words) >= 2 and words[0] in ("import", "from"):
                imported.add(words[1].split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"harness", "dsplatform", "__future__", "ds_preprocessing"}
    # pandas reads the job's Parquet output, which needs pyarrow.
    assert third_party <= names and "pyarrow" in names, f"harness imports {sorted(third_party)}; extra has {names}"
    assert "dsplatform[harness]" in extras["dev"]


def test_wheel_ships_the_extension_pins_and_py_typed_but_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = "dsplatform/_bundled_localstack/"
    extension_sources = {
        f"{bundled}{path.relative_to(ROOT / 'localstack').as_posix()}"
        for path in source_files(ROOT / "localstack" / "extension")
    }
    assert {f"{bundled}constraints.txt", f"{bundled}extension/pyproject.toml", "dsplatform/py.typed"} <= names
    assert f"{bundled}extension/dsplatform_localstack/cfn/plugins.py" in names
    assert extension_sources <= names, sorted(extension_sources - names)
    assert not [n for n in names
                if n.startswith(("tests/", "containers/", "functions/", "localstack/", "docs/", "bench/"))]
    # The stock job's image source ships (a consumer keeping the stock pipeline needs no copy), its tests do not.
    job = ROOT / "containers" / "preprocessing"
    shipped = {f"dsplatform/_bundled_containers/preprocessing/{p.relative_to(job).as_posix()}"
               for p in source_files(job) if "tests" not in p.relative_to(job).parts}
    assert shipped <= names, sorted(shipped - names)
    assert not [n for n in names if n.startswith("dsplatform/_bundled_containers/preprocessing/tests/")]
    # So does the api component's (its job package through the checkout's symlink, as files), without its tests.
    api = ROOT / "containers" / "api"
    served = {f"dsplatform/_bundled_containers/api/{p.relative_to(api).as_posix()}"
              for p in source_files(api) if "tests" not in p.relative_to(api).parts}
    served |= {f"dsplatform/_bundled_containers/api/ds_preprocessing/{p.name}"
               for p in source_files(job / "ds_preprocessing")}
    assert {"dsplatform/_bundled_containers/api/ds_preprocessing/model.py",
            "dsplatform/_bundled_containers/api/ds_api/app.py"} <= served <= names, sorted(served - names)
    assert not [n for n in names if n.startswith("dsplatform/_bundled_containers/api/tests/")]
    # The stock ingest function's code ships too (the deployer zips it when a project has no functions/ingest).
    function = ROOT / "functions" / "ingest"
    code = {f"dsplatform/_bundled_functions/ingest/{p.relative_to(function).as_posix()}"
            for p in source_files(function)}
    assert code <= names, sorted(code - names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert f"dsplatform-{dsplatform.__version__}.dist-info/METADATA" in names


def test_wheel_installed_outside_the_repo_finds_the_bundled_extension(wheel: Path, tmp_path: Path) -> None:
    # A fresh venv without the project's site-packages; --no-deps because the launcher's bundle code is
    # stdlib-only, so this runs in seconds (the full consumer install is the consumer e2e test's job).
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env_dir)
    python = env_dir / "bin" / "python"
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                             capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stderr[-2000:]
    script = (
        "import json, sys, pathlib, dsplatform\n"
        "from dsplatform.localstack.bundle import bundle_root, materialize\n"
        "copy = materialize(pathlib.Path(sys.argv[1]))\n"
        "print(json.dumps({'root': str(bundle_root() / 'constraints.txt'), 'module': dsplatform.__file__,"
        " 'version': dsplatform.__version__,"
        " 'files': sorted(p.relative_to(copy).as_posix() for p in copy.rglob('*') if p.is_file()),"
        " 'pins': (copy / 'constraints.txt').read_text()}))\n"
    )
    # -I: isolated (no cwd, no PYTHONPATH, no user site): only the venv's own site-packages count.
    run = subprocess.run([str(python), "-I", "-c", script, str(tmp_path / "cache")], capture_output=True, text=True,
                         cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout)
    site = str(env_dir / "lib")
    assert found["module"].startswith(site) and found["root"].startswith(site), found
    assert found["version"] == dsplatform.__version__
    assert found["pins"] == (ROOT / "localstack" / "constraints.txt").read_text()
    expected = {p.relative_to(ROOT / "localstack").as_posix() for p in source_files(ROOT / "localstack" / "extension")}
    assert expected | {"constraints.txt"} == set(found["files"])


def test_editable_install_reads_the_checkout_and_copies_only_sources(tmp_path: Path) -> None:
    from dsplatform.localstack.bundle import bundle_root, materialize

    assert Path(str(bundle_root() / "constraints.txt")) == ROOT / "localstack" / "constraints.txt"  # ./run: editable
    first = materialize(tmp_path)
    again = materialize(tmp_path)
    assert first == again and first.parent == tmp_path / "localstack"
    copied = {p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file()}
    expected = {p.relative_to(ROOT / "localstack").as_posix() for p in source_files(ROOT / "localstack" / "extension")}
    assert copied == expected | {"constraints.txt"}
    assert not list(tmp_path.glob("localstack/bundle.staging-*"))


def test_the_cache_copy_leaves_out_build_output_and_is_made_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dsplatform.localstack import bundle

    source = tmp_path / "bundle"
    (source / "extension" / "pkg" / "__pycache__").mkdir(parents=True)
    (source / "constraints.txt").write_text("pin==1\n")
    (source / "extension" / "pkg" / "mod.py").write_text("x = 1\n")
    # What pip and Python leave in a source folder is not source: never copied.
    (source / "extension" / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    (source / "extension" / "pkg" / "stray.pyc").write_bytes(b"\0")
    (source / "extension" / "build" / "lib").mkdir(parents=True)
    (source / "extension" / "build" / "lib" / "mod.py").write_text("x = 1\n")
    (source / "extension" / "pkg.egg-info").mkdir()
    (source / "extension" / "pkg.egg-info" / "PKG-INFO").write_text("")
    monkeypatch.setattr(bundle, "bundle_root", lambda: source)
    copy = bundle.materialize(tmp_path / "cache")
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file()) == [
        "constraints.txt", "extension/pkg/mod.py"]
    assert bundle.materialize(tmp_path / "cache") == copy  # the same source: the same copy
    (source / "extension" / "pkg" / "mod.py").write_text("x = 2\n")
    assert bundle.materialize(tmp_path / "cache") != copy  # a changed source: a new copy
