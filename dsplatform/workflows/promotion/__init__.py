"""Evidence-gated promotion: e2e records, the comparison rule, and `promote`."""

from __future__ import annotations

from dsplatform.workflows.promotion.compare import Verdict, differences, find_evidence
from dsplatform.workflows.promotion.record import ImageEvidence, Record, Rendering, StackHash, render
from dsplatform.workflows.promotion.store import list_records, put_record

__all__ = [
    "ImageEvidence",
    "Record",
    "Rendering",
    "StackHash",
    "Verdict",
    "differences",
    "find_evidence",
    "list_records",
    "put_record",
    "render",
]
