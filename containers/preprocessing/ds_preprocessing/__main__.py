"""Container entrypoint: run the job with the process environment and exit with its code."""

from __future__ import annotations

import os
import sys

from ds_preprocessing.job import run

if __name__ == "__main__":
    sys.exit(run(os.environ))
