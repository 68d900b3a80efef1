"""Run one command and record its wall time and peak memory.

    python -S benchmarks/launch.py RESULT.json TIMEOUT COMMAND...

``benchmarks/run.py`` starts every measured process through this small
launcher rather than directly: Linux carries a parent's peak RSS over into a
forked child's ``ru_maxrss`` (across ``exec``), so a command started straight
from the benchmark process, which holds a million-triple graph, would report
that process's memory as its own. Forked from this small interpreter, the
command reports its own peak (a floor of about 10 MiB, this launcher's). The
command's output goes to the launcher's stdout and stderr; the measurement goes
to RESULT.json. The time runs from just before the fork to the command's exit.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time


def main() -> None:
    result, timeout, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    timer = threading.Timer(timeout, os.kill, (child.pid, signal.SIGKILL))
    timer.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    timer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    with open(result, "w", encoding="utf-8") as handle:
        json.dump({"seconds": seconds, "maxrss_kib": usage.ru_maxrss, "returncode": child.returncode,
                   "cpu_seconds": usage.ru_utime + usage.ru_stime}, handle)


if __name__ == "__main__":
    main()
