"""The ingest function's tests import its package from functions/ingest/ (it is deployed as a zip, not installed)."""

from __future__ import annotations

import sys
from pathlib import Path

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "ingest"
if str(FUNCTION_DIR) not in sys.path:
    sys.path.insert(0, str(FUNCTION_DIR))
