"""Peak resident memory of the calling process, for the benchmark scripts.

``VmHWM`` from /proc/self/status, read inside the measured process. Not ``ru_maxrss``
where /proc exists: Linux keeps ``ru_maxrss`` across fork + exec, so a worker started by a
bigger driver would report at least the driver's peak. (``scaleout_bench.py`` keeps its own
copy: it reads the figure inside Dask workers, which need not see this folder.)
"""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_bytes() -> int:
    """This process's peak RSS in bytes (``ru_maxrss`` only where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
