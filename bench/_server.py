"""Run the hub under uvicorn for the benchmark, optionally profiling every thread.

``python bench/_server.py --port P [--profile OUT.prof]``; settings come from the
``DECONFLICTION_*`` environment. With ``--profile``, each thread (the event loop and the
worker threads that run the routes) gets its own ``cProfile`` profiler; on SIGTERM the
stats are merged and written to ``OUT.prof`` (read with ``python -m pstats OUT.prof``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import signal
import sys
import threading

import uvicorn


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--profile", default=None)
    args = ap.parse_args()

    profilers: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_thread_profiler(*_: object) -> None:
        sys.setprofile(None)
        p = cProfile.Profile()
        with lock:
            profilers.append(p)
        p.enable()

    # uvicorn re-raises the signal that stopped it once it has shut down: exit cleanly
    # then, so that the profile below is written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if args.profile:
        threading.setprofile(start_thread_profiler)
        main_p = cProfile.Profile()
        profilers.append(main_p)
        main_p.enable()
    try:
        uvicorn.run(
            "deconfliction.api:create_app",
            factory=True,
            host="127.0.0.1",
            port=args.port,
            access_log=False,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
    finally:
        if args.profile:
            main_p.disable()
            with lock:
                ps = list(profilers)
            stats: pstats.Stats | None = None
            for p in ps:
                try:
                    p.create_stats()
                except Exception:  # a profiler still running in another thread
                    continue
                if not getattr(p, "stats", None):
                    continue
                if stats is None:
                    stats = pstats.Stats(p)
                else:
                    stats.add(p)
            if stats is not None:
                stats.dump_stats(args.profile)


if __name__ == "__main__":
    main()
