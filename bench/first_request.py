#!/usr/bin/env python3
"""How long the first requests after a handover wait, against the app's own steady latency, in one run.

    bench/first_request.py --inventory INV --playbook PLAY --port PORT --path / --version-regex RE \\
        --from 1.0.0 --to 2.0.0 [--extra-vars JSON] [--rounds 3] [--out results.json]

Each round deploys ``--from`` (a fresh config each round, so that the upgrade is a real handover), then probes
``http://127.0.0.1:PORT<path>`` with one client every 20 ms while it upgrades to ``--to``, then goes back to
``--from`` the same way: two handovers a round.  For each handover it reports the steady p99 of the release
that served before (its answers in the 3 s before the playbook started) and the latency of the first answers of
the new release: the first one, and the slowest of the first ten (the first request of each new worker is among
them).  The release of an answer is read from its body with ``--version-regex`` (one group).  The loop is
bounded (120 s a handover, 6000 requests); traffic goes to loopback only.  No figure is asserted: the numbers
go into bench/README.md and the closing notes.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request

INTERVAL = 0.02
STEADY = 3.0
FIRST = 10


class Probe:
    """One client, one GET every INTERVAL s; rows of (start, latency, status, version)."""

    def __init__(self, url, version_re):
        self.url = url
        self.version_re = re.compile(version_re)
        self.rows = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.t0 = time.monotonic()

    def fetch(self):
        status, version = 0, None
        try:
            with urllib.request.urlopen(self.url, timeout=10) as resp:
                status = resp.status
                m = self.version_re.search(resp.read().decode("utf-8", "replace"))
                version = m.group(1) if m else None
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:  # refused, reset, timed out
            status = 0
        return status, version

    def loop(self):
        while not self.stop.is_set() and len(self.rows) < 6000 and time.monotonic() - self.t0 < 120:
            start = time.monotonic()
            status, version = self.fetch()
            latency = time.monotonic() - start
            self.rows.append((start - self.t0, latency, status, version))
            time.sleep(max(0.0, INTERVAL - latency))

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def now(self):
        return time.monotonic() - self.t0


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))] if values else None


def deploy(args, version, round_no, extra):
    cmd = ["ansible-playbook", "-i", args.inventory, args.playbook, "-e",
           json.dumps(dict(extra, version=version, port=args.port, bench_round="%s-%s" % (round_no, version)))]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        raise SystemExit("deploy of %s failed:\n%s" % (version, res.stdout[-3000:]))


def handover(args, old, new, round_no, extra):
    url = "http://127.0.0.1:%d%s" % (args.port, args.path)
    with Probe(url, args.version_regex) as probe:
        time.sleep(STEADY)
        started = probe.now()
        deploy(args, new, round_no, extra)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and sum(1 for r in probe.rows if r[3] == new) < 3 * FIRST:
            time.sleep(0.1)
    rows = probe.rows
    steady = [r[1] for r in rows if r[0] < started and r[3] == old and r[2] == 200]
    answers = [r for r in rows if r[3] == new]
    first = [r[1] for r in answers[:FIRST]]
    return {
        "from": old, "to": new,
        "steady_p99": round(p99(steady), 4) if steady else None,
        "steady_p50": round(statistics.median(steady), 4) if steady else None,
        "first": round(first[0], 4) if first else None,
        "slowest_of_first_%d" % FIRST: round(max(first), 4) if first else None,
        "failed": sum(1 for r in rows if r[2] != 200),
        "sent": len(rows),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--inventory", required=True)
    ap.add_argument("--playbook", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--version-regex", required=True)
    ap.add_argument("--from", dest="old", required=True)
    ap.add_argument("--to", dest="new", required=True)
    ap.add_argument("--extra-vars", default="{}")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out")
    args = ap.parse_args()
    extra = json.loads(args.extra_vars)
    results = []
    for round_no in range(1, args.rounds + 1):
        deploy(args, args.old, round_no, extra)
        results.append(handover(args, args.old, args.new, round_no, extra))
        results.append(handover(args, args.new, args.old, round_no, extra))
        print(json.dumps(results[-2]))
        print(json.dumps(results[-1]))
    key = "slowest_of_first_%d" % FIRST
    summary = {
        "handovers": len(results),
        "steady_p99_median": statistics.median(r["steady_p99"] for r in results if r["steady_p99"] is not None),
        "first_median": statistics.median(r["first"] for r in results if r["first"] is not None),
        "first_worst": max(r["first"] for r in results if r["first"] is not None),
        key + "_worst": max(r[key] for r in results if r[key] is not None),
        "over_p99_plus_0.05": sum(1 for r in results if r[key] is not None and r["steady_p99"] is not None
                                  and r[key] > r["steady_p99"] + 0.05),
        "failed": sum(r["failed"] for r in results),
    }
    print(json.dumps(summary))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"handovers": results, "summary": summary, "extra_vars": extra}, f, indent=2)


if __name__ == "__main__":
    if not os.environ.get("ANSIBLE_COLLECTIONS_PATH"):
        raise SystemExit("source scripts/env.sh first")
    main()
