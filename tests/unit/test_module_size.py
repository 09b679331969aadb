"""Every module of the product stays under the style rule's 400 lines (tests and benchmarks are not product code)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 400  # STYLE.md: small modules with one purpose, under 400 lines
SOURCES = ("dsplatform", "blueprints", "harness", "localstack/extension", *(
    str(p.relative_to(ROOT)) for p in sorted((ROOT / "containers").iterdir()) if p.is_dir()))
SKIPPED_PARTS = {"tests", "bench", "__pycache__", "build", "node_modules"}


def product_modules(root: Path = ROOT) -> list[Path]:
    """The Python modules under the product folders, each once (a symlinked package counts where it lives)."""
    found: dict[Path, Path] = {}
    for folder in SOURCES:
        for path in sorted((root / folder).rglob("*.py")):
            parts = path.relative_to(root).parts
            if SKIPPED_PARTS.intersection(parts) or any(p.startswith(".") or p.endswith(".egg-info") for p in parts):
                continue
            found.setdefault(path.resolve(), path)
    return sorted(found.values())


def oversized(paths: list[Path], limit: int = LIMIT) -> dict[str, int]:
    """Path (relative to the repository) -> line count, for every module of ``limit`` lines or more."""
    counts = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in paths}
    return {path: n for path, n in counts.items() if n >= limit}


def test_the_product_folders_hold_modules() -> None:
    # Guards the walk itself: a wrong folder list would make the size check below pass on nothing.
    names = {str(p.relative_to(ROOT)) for p in product_modules()}
    assert {"dsplatform/config/models.py", "blueprints/storage.py", "harness/plugin.py",
            "containers/preprocessing/ds_preprocessing/job.py"} <= names
    assert any(n.startswith("localstack/extension/dsplatform_localstack/") for n in names)
    assert not any("/tests/" in n or n.startswith("bench/") for n in names)


def test_no_module_reaches_400_lines() -> None:
    too_big = oversized(product_modules())
    assert not too_big, (f"modules of {LIMIT} lines or more (split them along their seams, re-exporting what "
                         f"others import): {too_big}")
