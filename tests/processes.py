"""A stand-in for another project's LocalStack: a sleeping process whose command line names LocalStack's runtime."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

RUNTIME = b"localstack.runtime.main"  # what the launcher looks for in /proc/<pid>/cmdline


def lookalike() -> subprocess.Popen[bytes]:
    """Start the stand-in and return once it has exec'd (its own session; the caller kills it).

    Until then /proc/<pid>/cmdline is still the forking pytest's, with no runtime name: on a busy machine a test
    reached the launcher's ownership check first, saw no LocalStack there, and failed.
    """
    fake = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", RUNTIME.decode()],
                            start_new_session=True)
    cmdline, deadline = Path(f"/proc/{fake.pid}/cmdline"), time.monotonic() + 30
    while RUNTIME not in cmdline.read_bytes():
        if time.monotonic() > deadline:
            fake.kill()
            raise TimeoutError(f"the stand-in process {fake.pid} did not exec within 30 s")
        time.sleep(0.01)
    return fake
