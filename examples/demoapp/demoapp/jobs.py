"""A tiny job queue in the app's state directory, for the worker and timer examples.

    $STATE_DIRECTORY/queue/<queue>/new/<id>.job        {"id": ..., "seconds": ...}, waiting
    $STATE_DIRECTORY/queue/<queue>/processing/<id>.job claimed by one worker (rename is atomic)
    $STATE_DIRECTORY/queue/<queue>/done/<id>.json      the result: who did it, with which release

A worker finishes the job in hand when it is asked to stop (SIGTERM), then exits: a graceful stop loses
no job and does none twice.
"""

import json
import os
import signal
import sys
import time

from demoapp._version import VERSION


def state_dir():
    path = os.environ.get("STATE_DIRECTORY") or os.environ.get("DEMOAPP_STATE_DIR")
    if not path:
        raise SystemExit("demoapp: no state directory (STATE_DIRECTORY is set by systemd's StateDirectory=)")
    return path.split(":")[0]


def queue_dirs(queue):
    base = os.path.join(state_dir(), "queue", queue)
    dirs = {name: os.path.join(base, name) for name in ("new", "processing", "done")}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    return dirs


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def worker(args):
    queue = "default"
    if args[:1] == ["--queue"] and len(args) == 2:
        queue = args[1]
    elif args:
        print("usage: worker [--queue NAME]", file=sys.stderr)
        return 2
    dirs = queue_dirs(queue)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *a: stopping.append(True))
    who = "%s/%s" % (os.environ.get("ZIPAPP_PROCESS", "worker"), os.getpid())
    print("worker %s (%s) waiting for jobs in %s" % (who, VERSION, dirs["new"]), flush=True)
    while not stopping:
        claimed = None
        for name in sorted(os.listdir(dirs["new"])):
            if not name.endswith(".job"):
                continue
            try:
                os.rename(os.path.join(dirs["new"], name), os.path.join(dirs["processing"], name))
            except FileNotFoundError:
                continue  # another worker was faster
            claimed = name
            break
        if claimed is None:
            time.sleep(0.2)
            continue
        path = os.path.join(dirs["processing"], claimed)
        with open(path) as f:
            job = json.load(f)
        started = time.time()
        print("worker %s: job %s (%s s)" % (who, job["id"], job.get("seconds", 0)), flush=True)
        time.sleep(float(job.get("seconds", 0)))  # the work; a SIGTERM meanwhile waits for it
        write_json(os.path.join(dirs["done"], "%s.json" % job["id"]),
                   {"id": job["id"], "version": VERSION, "worker": who, "started": started, "finished": time.time()})
        os.unlink(path)
    print("worker %s: stopped after finishing its job" % who, flush=True)
    return 0


def tick(args):
    """A scheduled command: one line per run in $STATE_DIRECTORY/ticks.log."""
    with open(os.path.join(state_dir(), "ticks.log"), "a") as f:
        f.write("%s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), VERSION, os.getpid()))
    print("tick %s" % VERSION)
    return 0
