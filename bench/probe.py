#!/usr/bin/env python3
"""Probe an HTTP endpoint on loopback in a loop and report failures and latency.

    bench/probe.py --url http://127.0.0.1:18202/health --stop-file F [--csv out.csv]

Sends one GET at a time, every --interval seconds, until --stop-file exists, --max-seconds passed or
--max-requests were sent (the loop is always bounded).  Prints one JSON line: sent, failed, max and
p50 latency, the longest run of consecutive failures in seconds, and the versions seen.
"""

import argparse
import csv
import json
import os
import time
import urllib.error
import urllib.request


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    ap.add_argument("--max-requests", type=int, default=20000)
    ap.add_argument("--csv")
    args = ap.parse_args()
    if not args.url.startswith(("http://127.0.0.1:", "http://[::1]:", "http://localhost:")):
        raise SystemExit("probe.py only sends traffic to loopback")
    start = time.monotonic()
    rows = []
    while not os.path.exists(args.stop_file) and len(rows) < args.max_requests:
        t0 = time.monotonic()
        if t0 - start > args.max_seconds:
            break
        status, version = 0, None
        try:
            with urllib.request.urlopen(args.url, timeout=args.timeout) as resp:
                status = resp.status
                try:
                    version = json.loads(resp.read().decode()).get("version")
                except ValueError:
                    pass
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:  # refused, reset, timed out
            status = 0
        t1 = time.monotonic()
        rows.append((t0 - start, t1 - t0, status, version))
        time.sleep(max(0.0, args.interval - (t1 - t0)))
    failed = [r for r in rows if r[2] != 200]
    outage, run_start = 0.0, None
    for r in rows:
        if r[2] != 200:
            run_start = r[0] if run_start is None else run_start
            outage = max(outage, r[0] + r[1] - run_start)
        else:
            run_start = None
    latencies = sorted(r[1] for r in rows)
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["t", "latency", "status", "version"])
            w.writerows(rows)
    print(json.dumps({
        "sent": len(rows),
        "failed": len(failed),
        "max_latency": round(latencies[-1], 3) if latencies else None,
        "p50_latency": round(latencies[len(latencies) // 2], 4) if latencies else None,
        "longest_outage": round(outage, 3),
        "versions": sorted(set(r[3] for r in rows if r[3])),
    }))


if __name__ == "__main__":
    main()
