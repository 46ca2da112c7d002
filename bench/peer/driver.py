"""Drives the Celery peer the way the bench drives Outpost; prints one JSON document.

sync: CONCURRENCY client processes, each sending a task and waiting for its result before
sending the next (a closed loop). Processes, not threads: the rpc result backend loses replies
when threads of one client share it. async: one client sends all tasks, then awaits them all.
"""
import argparse
import json
import multiprocessing
import queue
import sys
import threading
import time


def phase(name, edge):
    """Tells the bench when a measured phase begins and ends, so it can meter the CPU of every process."""
    print("BENCH-PHASE", name, edge, file=sys.stderr, flush=True)


def summarize(values):
    if not values:
        return None
    ordered = sorted(values)

    def rank(p):
        return round(ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))], 2)

    return {"count": len(ordered), "p50": rank(50), "p90": rank(90), "p99": rank(99),
            "max": round(ordered[-1], 2), "mean": round(sum(ordered) / len(ordered), 2)}


def per_second(count, seconds):
    return round(count / seconds, 1) if seconds > 0 else 0


def client(issued, count, warmup, ready, start, deadline, results):
    """One closed-loop client: warm up, wait for the common start, then take tasks until none are left."""
    from tasks import noop

    latencies, errors, first_error = [], 0, None
    try:
        for _ in range(warmup):
            noop.delay().get(timeout=60)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the run
        results.put({"latencies": [], "errors": 1, "firstError": "warm-up: " + repr(error), "timedOut": False})
        ready.abort()
        return
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        results.put({"latencies": [], "errors": 0, "firstError": None, "timedOut": False})
        return
    start.wait()
    timed_out = False
    while True:
        with issued.get_lock():
            if issued.value >= count:
                break
            if time.monotonic() > deadline.value:
                timed_out = True
                break
            issued.value += 1
        begin = time.perf_counter()
        try:
            noop.delay().get(timeout=30)
            latencies.append((time.perf_counter() - begin) * 1000)
        except Exception as error:  # noqa: BLE001 - every failure is counted and the first one shown
            errors += 1
            first_error = first_error or repr(error)
    results.put({"latencies": latencies, "errors": errors, "firstError": first_error, "timedOut": timed_out})


def closed_loop(count, concurrency, warmup, seconds):
    # spawn, not fork: each client makes its own broker connections from a fresh interpreter.
    context = multiprocessing.get_context("spawn")
    issued, deadline = context.Value("i", 0), context.Value("d", 0.0)
    clients = min(concurrency, count)
    ready, start, results = context.Barrier(clients + 1), context.Event(), context.Queue()
    args = (issued, count, -(-warmup // clients), ready, start, deadline, results)
    processes = [context.Process(target=client, args=args, daemon=True) for _ in range(clients)]
    for process in processes:
        process.start()
    try:
        ready.wait(timeout=seconds + 60)
    except threading.BrokenBarrierError:
        pass  # a client failed its warm-up and reports why; the others give up at once
    deadline.value = time.monotonic() + seconds
    phase("sync", "begin")
    began = time.perf_counter()
    start.set()
    reports = []
    give_up = time.monotonic() + seconds + 60
    for _ in processes:
        try:
            reports.append(results.get(timeout=max(0.1, give_up - time.monotonic())))
        except queue.Empty:
            reports.append({"latencies": [], "errors": 1, "firstError": "client did not report", "timedOut": True})
    elapsed = time.perf_counter() - began
    phase("sync", "end")
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
    latencies = [value for report in reports for value in report["latencies"]]
    first_errors = [report["firstError"] for report in reports if report["firstError"]]
    return {"jobs": len(latencies), "errors": sum(report["errors"] for report in reports),
            "firstError": first_errors[0] if first_errors else None,
            "stoppedByTimeLimit": any(report["timedOut"] for report in reports), "elapsedSeconds": round(elapsed, 3),
            "jobsPerSecond": per_second(len(latencies), elapsed), "latencyMs": summarize(latencies)}


def submit_then_wait(count, seconds):
    from tasks import noop

    noop.delay().get(timeout=60)
    phase("async", "begin")
    started = time.perf_counter()
    deadline = time.monotonic() + seconds
    results = []
    while len(results) < count and time.monotonic() < deadline:
        results.append(noop.delay())
    submitted = time.perf_counter() - started
    finished = errors = 0
    first_error = None
    for result in results:
        try:
            result.get(timeout=max(0.1, deadline - time.monotonic()))
            finished += 1
        except Exception as error:  # noqa: BLE001
            errors += 1
            first_error = first_error or repr(error)
    elapsed = time.perf_counter() - started
    phase("async", "end")
    return {"submitted": len(results), "submitPerSecond": per_second(len(results), submitted), "finished": finished,
            "unfinished": len(results) - finished, "firstError": first_error, "elapsedSeconds": round(elapsed, 3),
            "jobsPerSecond": per_second(finished, elapsed)}


def main():
    parser = argparse.ArgumentParser()
    for name in ("sync-jobs", "async-jobs", "concurrency", "warmup", "phase-seconds"):
        parser.add_argument("--" + name, type=int, required=True)
    args = parser.parse_args()
    report = {
        "sync": closed_loop(args.sync_jobs, args.concurrency, args.warmup, args.phase_seconds),
        "async": submit_then_wait(args.async_jobs, args.phase_seconds),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
