"""The peer's job: the same trivial program as Outpost's `noop` service, with one progress update."""
import os
import re
import subprocess

from celery import Celery

app = Celery("outpost_bench_peer", broker=os.environ["BENCH_BROKER_URL"], backend="rpc://")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_hijack_root_logger=False,
    broker_connection_retry=False,
)

PROGRESS = re.compile(r"PROGRESS (\d+)")


@app.task(bind=True, name="bench.noop")
def noop(self):
    # Like an Outpost agent: a child process, stdout read to the end, progress parsed from it.
    run = subprocess.run(["/bin/echo", "PROGRESS", "50"], stdin=subprocess.DEVNULL, capture_output=True, env={}, check=True)
    out = run.stdout.decode()
    match = PROGRESS.search(out)
    if match:
        self.update_state(state="PROGRESS", meta={"progress": int(match.group(1))})
    return {"result": out}
