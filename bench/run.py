"""fediverse-mu benchmarks (``make bench``): measures and prints figures; record them in
docs/benchmarks.md with the machine and the date. Not a test: nothing here asserts timings.

Startup: time from spawning ``fediverse-mu serve`` to its first 200 on /healthz, and the
server's resident memory (RSS) once idle. Federation (``bench/federation.py``): the inbox's
accept path, the processing of inbox items by the worker, and a 500-inbox fan-out over TLS.
Mastodon API (``bench/api.py``): the home timeline over 1,000,000 statuses and posting.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import api  # bench/api.py, beside this script
import federation  # bench/federation.py, beside this script
import groups  # bench/groups.py, beside this script
import places  # bench/places.py, beside this script

RUNS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fediverse_mu(*args: str) -> list[str]:
    return [sys.executable, "-m", "fediverse_mu", *args]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def startup_once(data: Path) -> tuple[float, float]:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(fediverse_mu("serve", "--data", str(data), "--port", str(port)),
                            stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("server exited") from None
                time.sleep(0.002)
        elapsed = time.perf_counter() - start
        for path in ("/", "/api/v2/instance", "/nodeinfo/2.1"):  # warm the usual pages
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
        time.sleep(2)  # idle
        return elapsed, rss_mib(proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)


def main() -> None:
    print(f"fediverse-mu benchmarks — {platform.node()} {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench"
        subprocess.run(fediverse_mu("init", "--data", str(data), "--domain", "localhost:8000",
                                    "--dev"), check=True, stdout=subprocess.DEVNULL)
        # Bytecode as an installed package has it (pip compiles at install; a server writes
        # __pycache__ on its first start). Where PYTHONDONTWRITEBYTECODE is set, as on the
        # workplace VM, every start would otherwise compile ~200 modules (~0.25 s).
        compiled = subprocess.run([sys.executable, "-m", "compileall", "-q",
                                   str(Path(__file__).resolve().parent.parent / "fediverse_mu")],
                                  check=False, stdout=subprocess.DEVNULL).returncode == 0
        startup_once(data)  # warm the OS page cache
        results = [startup_once(data) for _ in range(RUNS)]
    times = sorted(t for t, _ in results)
    rss = [m for _, m in results]
    print(f"startup to first 200 on /healthz ({RUNS} runs): median "
          f"{statistics.median(times):.3f} s, max {times[-1]:.3f} s   (target <= 0.5 s)"
          f"{'' if compiled else '; bytecode could not be compiled'}")
    print(f"idle RSS after startup and 3 page views: median {statistics.median(rss):.1f} MiB,"
          f" max {max(rss):.1f} MiB   (target <= 80 MiB)")
    print()
    federation.run_all()
    print()
    groups.run_all()
    print()
    api.run_all()
    print()
    places.run_all()


if __name__ == "__main__":
    main()
