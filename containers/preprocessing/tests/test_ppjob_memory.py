"""RSS is trimmed only when it has grown, not after every chunk (a trim per chunk cost ~15% of the job's CPU)."""

from __future__ import annotations

from ds_preprocessing.memory import Trimmer, current_rss_mib


class _Heap:
    """A fake process: RSS the test sets, and a trim that brings it back to ``base``."""

    def __init__(self, base: float) -> None:
        self.base, self.rss, self.trims = base, base, 0

    def trim(self, _pad: int) -> int:
        self.trims += 1
        self.rss = self.base
        return 1


def test_trims_first_then_only_after_rss_grew_by_the_threshold() -> None:
    heap = _Heap(base=300.0)
    trimmer = Trimmer(growth_mib=64.0, trim=heap.trim, rss=lambda: heap.rss)
    assert trimmer() and heap.trims == 1  # the first chunk sets the level
    for rss in (310.0, 340.0, 363.9):
        heap.rss = rss
        assert not trimmer()
    assert heap.trims == 1
    heap.rss = 364.0  # 64 MiB above the level after the last trim
    assert trimmer() and heap.trims == 2 and heap.rss == 300.0


def test_without_malloc_trim_or_rss_nothing_happens() -> None:
    heap = _Heap(base=300.0)
    assert not Trimmer(trim=heap.trim, rss=lambda: None)()
    assert heap.trims == 0


def test_rss_is_measured_on_linux() -> None:
    rss = current_rss_mib()
    assert rss is not None and 1.0 < rss < 100_000.0
