"""A parameter sweep on Dask against the same batches in one process (issue #16).

10^4 parameter points (H_z x alpha0, 100 x 100) x an ensemble of 100 llg_rsi systems per point
(random directions, seeded), dp54 with the generated numba kernels (llg_rsi_numba), final
state stored.  In one run:

1. the sweep's blocks run one after the other in this process, one thread (numba and BLAS
   pinned), with symmag.numeric.sweep.run_block -- the very function a worker runs;
2. the same plan (same blocks) on a LocalCluster of 2 worker processes, one thread each, the
   workers writing their blocks into the store (as `symmag sweep` does on its LocalCluster):
   throughput ratio = (1) / wall of (2); scheduler overhead = 1 - sum of task durations /
   (workers x wall);
3. resume: the sweep into a new store, killed when half of the blocks are written (every
   worker process is SIGKILLed, with the tasks running on it), then run again;
   the task-seconds of both runs -- every finished task (Dask's task stream), including those
   whose results were never written, plus the work in flight at the kill (each worker's time
   from its last finished task to the kill) -- against the uninterrupted run (2).

JIT compilation is excluded from both sides: this process compiles before it is timed, and
symmag.numeric.sweep.run compiles on every worker (client.run) before it submits the tasks.

    python benchmarks/bench_sweep.py                      # the issue's sweep
    python benchmarks/bench_sweep.py --side 30 --t-end 5  # a quick run
"""

from __future__ import annotations

import os

# one thread for this process's numba and BLAS, before they are imported (the workers get the
# same from symmag.numeric.sweep.THREAD_PINS)
for _name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_name] = "1"

import argparse  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from symmag.numeric import sweep  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class _Stop(Exception):
    """Raised by the progress callback to stop a sweep half-way."""


def _computes(stream: list[dict], prefix: str) -> list[float]:
    """The durations of every execution of the sweep's tasks in a Dask task stream."""
    return [s["stop"] - s["start"] for t in stream if str(t["key"]).startswith(prefix)
            for s in t["startstops"] if s["action"] == "compute"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--side", type=int, default=100, help="points along H_z and along alpha0 (default 100)")
    ap.add_argument("--ensemble", type=int, default=100)
    ap.add_argument("--t-end", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=None, help="points per task (default: symmag's timing)")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()

    from distributed import Client, get_task_stream

    rng = np.random.default_rng(16)
    y0 = rng.normal(size=(3, args.ensemble))
    y0 /= np.linalg.norm(y0, axis=0)
    grid = sweep.product(Hz=np.linspace(0.5, 1.5, args.side), alpha0=np.linspace(0.05, 0.3, args.side))
    t_eval = np.linspace(0.0, args.t_end, 3)
    started = time.perf_counter()
    p = sweep.plan("llg_rsi_numba", grid, t_eval, y0=y0, fixed={"gamma_abs": 1.0, "Hx": 0.0, "Hy": 0.0},
                   batch=args.batch, folder=ROOT / "generated" / "rhs")
    plan_s = time.perf_counter() - started
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (shared with other work); {grid.size} points x "
          f"{args.ensemble} systems, llg_rsi_numba dp54, t_end {args.t_end:g}; {p.blocks} tasks of "
          f"{int(np.prod(p.chunk))} points (plan and batch timing {plan_s:.1f} s, with the JIT)")

    # 1. the same blocks, one after the other, in this process
    sweep.warm(p)
    started, cpu = time.perf_counter(), time.process_time()
    serial = [sweep.run_block(p, b) for b in range(p.blocks)]
    serial_s, serial_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert all((r.status == sweep.DONE).all() for r in serial)
    print(f"one process, one thread: {serial_s:.2f} s ({serial_s / grid.size * 1e3:.3f} ms a point, "
          f"{serial_s / p.blocks:.3f} s a task; {serial_cpu:.2f} CPU-seconds)")

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    cluster = sweep.local_cluster(args.workers, silence_logs=logging.CRITICAL)  # as `symmag sweep` makes it
    client = Client(cluster, set_as_default=False)
    try:
        # 2. the LocalCluster
        client_cpu = time.process_time()  # this process: the client and the scheduler
        with get_task_stream(client) as whole_stream:
            whole = sweep.run(p, work / "whole.zarr", client=client, workers_write=True)
        client_cpu = time.process_time() - client_cpu
        ratio = serial_s / whole.wall
        print(f"LocalCluster, {whole.workers} workers x 1 thread: {whole.wall:.2f} s wall (JIT excluded), "
              f"{whole.task_seconds:.2f} task-seconds ({whole.task_cpu_seconds:.2f} of them on a CPU: the "
              f"rest is waiting for a core); throughput {ratio:.2f}x one process (target >= 1.7x); "
              f"scheduler overhead {100 * whole.overhead:.1f} % (target <= 5 %); the client "
              f"waited for results {whole.write_seconds:.2f} s; the client's process (with the scheduler) "
              f"used {whole.client_cpu_seconds:.2f} CPU-s in the wall time, {client_cpu:.2f} in all; load "
              f"{os.getloadavg()[0]:.2f}")
        got = sweep.open_sweep(work / "whole.zarr").y_final.values.reshape(grid.size, 3, -1)
        want = _in_grid_order(p, serial)
        assert np.array_equal(got, want), "the cluster's numbers differ from this process's"
        whole_runs = _computes(whole_stream.data, "symmag-sweep")

        # 3. killed half-way (every worker process, with the tasks running on it), then resumed
        pids = list(client.run(os.getpid).values())
        t_kill = 0.0

        def stop(done: int, total: int) -> None:
            nonlocal t_kill
            if done >= total // 2:  # SIGKILL: the work in flight is lost, nothing is cleaned up
                t_kill = time.time()
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                raise _Stop

        with get_task_stream(client) as killed_stream:
            try:
                sweep.run(p, work / "resumed.zarr", client=client, workers_write=True, on_result=stop)
            except _Stop:
                pass
        for _ in range(600):  # the nannies start new worker processes
            try:
                fresh = set(client.run(os.getpid).values())
            except OSError:
                fresh = set()
            if len(fresh) == args.workers and not fresh & set(pids):
                break
            time.sleep(0.1)
        first_runs = _computes(killed_stream.data, "symmag-sweep")
        # each worker was busy from its last finished task to the kill (a bound: it may have been idle)
        last = {}
        for t in killed_stream.data:
            for s in t["startstops"]:
                if s["action"] == "compute" and str(t["key"]).startswith("symmag-sweep"):
                    last[t["worker"]] = max(last.get(t["worker"], 0.0), s["stop"])
        lost = sum(max(0.0, t_kill - x) for x in last.values())
        first = int((sweep.open_sweep(work / "resumed.zarr").status.values != sweep.PENDING).sum())
        with get_task_stream(client) as resume_stream:
            resumed = sweep.run(p, work / "resumed.zarr", client=client, workers_write=True)
        second_runs = _computes(resume_stream.data, "symmag-sweep")
        again = sweep.open_sweep(work / "resumed.zarr").y_final.values.reshape(grid.size, 3, -1)
        assert np.array_equal(again, want), "the resumed sweep differs"
        whole_s = sum(whole_runs)
        both = sum(first_runs) + lost + sum(second_runs)
        runs = len(first_runs) + len(second_runs)
        print(f"resume: killed with {first} of {grid.size} points written, {len(first_runs)} tasks finished "
              f"and {lost:.2f} s of work in flight lost; resumed {resumed.computed} of {p.blocks} tasks "
              f"({resumed.skipped} kept). Task-seconds over both runs {both:.2f} s against {whole_s:.2f} s "
              f"uninterrupted: {both / whole_s:.3f}x (target <= 1.1x); task executions {runs} against "
              f"{len(whole_runs)}; mean task {whole_s / len(whole_runs):.3f} s then, "
              f"{(sum(first_runs) + sum(second_runs)) / runs:.3f} s now (the load); load "
              f"{os.getloadavg()[0]:.2f}")
    finally:
        client.close()
        cluster.close()
        shutil.rmtree(work, ignore_errors=True)


def _in_grid_order(p: sweep.Plan, results: list[sweep.BlockResult]) -> np.ndarray:
    """The blocks' final states placed at their points of the grid, flattened: (P, 3, E)."""
    out = np.full((*p.grid.shape, *results[0].data.shape[1:]), np.nan)
    for r in results:
        region = p.region(r.block)
        out[region] = r.data.reshape(*(s.stop - s.start for s in region), *r.data.shape[1:])
    return out.reshape(p.grid.size, *results[0].data.shape[1:])


if __name__ == "__main__":
    main()
