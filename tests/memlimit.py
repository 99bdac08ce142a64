"""Running test code in a child process whose address space is capped.

The child imports what it needs, reads its own address space (numpy, BLAS and Python
take ~1 GiB before doing anything), then caps it at that plus a budget: an allocation
past the budget is a MemoryError in the child, so the test fails instead of the machine
running out of memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.testkit import REPO

BUDGET_MIB = 256

_PRELUDE = """
import resource
def _vm_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")
_cap = _vm_bytes() + {budget} * 2**20
resource.setrlimit(resource.RLIMIT_AS, (_cap, _cap))
"""


def run_capped(imports: str, body: str, *, budget_mib: int = BUDGET_MIB,
               timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs ``imports``, caps the address space at its size plus ``budget_mib``, runs ``body``.

    Returns:
        The finished process (text output); ``returncode`` 0 when ``body`` ran through.
    """
    code = "\n".join([textwrap.dedent(imports), _PRELUDE.format(budget=budget_mib),
                      textwrap.dedent(body)])
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO, check=False)
