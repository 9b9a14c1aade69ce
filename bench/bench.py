#!/usr/bin/env python3
"""Time deploys of the example app with the collection's role and with a naive baseline, in one run.

Run through bench/run, which prepares the machine and the artifact server and starts a fresh test host
for every round.  In each round, for each variant (their order alternates between rounds): first
deploy of 1.0.0, re-run of 1.0.0, upgrade to 2.0.0 with a loopback probe loop running.
A deploy's time runs from the start of ansible-playbook until both the playbook has ended and the app
answers with the new version (polled every 20 ms), so work a deploy leaves to the first request
(like a cold shiv extraction) is counted.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
VARIANTS = {
    # name: (playbook, port, unit)
    "naive": ("naive.yml", 18201, "naive.service"),
    "zipapp": ("zipapp.yml", 18202, "demoapp.service"),
}


def version_at(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=2) as r:
            return json.loads(r.read().decode()).get("version")
    except Exception:
        return None


def main_pid(host, unit):
    out = subprocess.run(["docker", "exec", host, "systemctl", "show", "-P", "MainPID", unit],
                         capture_output=True, text=True).stdout.strip()
    return int(out or 0)


def deploy(host, inventory, artifacts, variant, version, log):
    playbook, port, unit = VARIANTS[variant]
    pid_before = main_pid(host, unit)
    t0 = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", inventory, os.path.join(HERE, playbook),
         "-e", "version=%s" % version, "-e", "artifacts=%s" % artifacts],
        capture_output=True, text=True)
    t_play = time.monotonic() - t0
    log.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-2000:])
        raise SystemExit("%s %s: ansible-playbook failed" % (variant, version))
    deadline = time.monotonic() + 120
    while version_at(port) != version:
        if time.monotonic() > deadline:
            raise SystemExit("%s %s never answered" % (variant, version))
        time.sleep(0.02)
    t_ready = time.monotonic() - t0
    recap = re.search(r"changed=(\d+)", proc.stdout.split("PLAY RECAP")[-1])
    return {
        "seconds": round(max(t_play, t_ready), 2),
        "play_seconds": round(t_play, 2),
        "changed": int(recap.group(1)) if recap else None,
        "restarted": main_pid(host, unit) != pid_before,
    }


def with_probe(port, fn, csv_path=None):
    stop = tempfile.mktemp(prefix="zipapp-probe-stop-")
    probe = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "probe.py"), "--url", "http://127.0.0.1:%d/health" % port,
         "--stop-file", stop, "--interval", "0.02", "--max-seconds", "240"]
        + (["--csv", csv_path] if csv_path else []),
        stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # the probe sees the old release first
    try:
        result = fn()
        time.sleep(1.0)  # and the new one for a while
    finally:
        open(stop, "w").close()
        out, _ = probe.communicate(timeout=60)
        os.unlink(stop)
    return result, json.loads(out)


def exposure(host, unit):
    out = subprocess.run(["docker", "exec", host, "systemd-analyze", "security", "--no-pager", unit],
                         capture_output=True, text=True).stdout
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out)
    return float(m.group(1)) if m else None


def run_round(host, inventory, artifacts, out_dir, order, number=1):
    """One round on a fresh host: each variant's first deploy, re-run and upgrade."""
    results = {}
    with open(os.path.join(out_dir, "ansible.log"), "a") as log:
        for variant in order:
            port = VARIANTS[variant][1]
            r = results[variant] = {}
            r["first"] = deploy(host, inventory, artifacts, variant, "1.0.0", log)
            r["rerun"] = deploy(host, inventory, artifacts, variant, "1.0.0", log)
            r["upgrade"], r["probe"] = with_probe(
                port, lambda: deploy(host, inventory, artifacts, variant, "2.0.0", log),
                os.path.join(out_dir, "probe-%s-round%s.csv" % (variant, number)))
            r["exposure"] = exposure(host, VARIANTS[variant][2])
    return results


def median(values):
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2.0


def report(rounds, out_dir):
    """Medians over the rounds (seconds, latency); sums of failed requests; worst outage."""
    def med(variant, phase, key="seconds"):
        return round(median([r[variant][phase][key] for r in rounds]), 2)

    def total(variant, key):
        return sum(r[variant]["probe"][key] for r in rounds)

    def worst(variant, key):
        return max(r[variant]["probe"][key] for r in rounds)

    def ratio(a, b):
        return "%.2fx" % (b / a) if a else "-"

    n = {p: med("naive", p) for p in ("first", "upgrade", "rerun")}
    z = {p: med("zipapp", p) for p in ("first", "upgrade", "rerun")}
    rows = [
        ("first deploy (s, median)", n["first"], z["first"], ratio(n["first"], z["first"]), "<= 0.8x"),
        ("upgrade (s, median)", n["upgrade"], z["upgrade"], ratio(n["upgrade"], z["upgrade"]), "<= 0.8x"),
        ("re-run, same version (s, median)", n["rerun"], z["rerun"], ratio(n["rerun"], z["rerun"]), "<= 0.5x"),
        ("re-run changed= (every round)", sorted(set(r["naive"]["rerun"]["changed"] for r in rounds)),
         sorted(set(r["zipapp"]["rerun"]["changed"] for r in rounds)), "", "0"),
        ("re-run restarts (rounds)", sum(r["naive"]["rerun"]["restarted"] for r in rounds),
         sum(r["zipapp"]["rerun"]["restarted"] for r in rounds), "", "0"),
        ("upgrade: failed probe requests", "%d of %d" % (total("naive", "failed"), total("naive", "sent")),
         "%d of %d" % (total("zipapp", "failed"), total("zipapp", "sent")), "", "0"),
        ("upgrade: longest outage (s, worst)", worst("naive", "longest_outage"), worst("zipapp", "longest_outage"),
         "", "0"),
        ("upgrade: max probe latency (s, worst)", worst("naive", "max_latency"), worst("zipapp", "max_latency"),
         "", "< 1"),
        ("systemd-analyze security", rounds[0]["naive"]["exposure"], rounds[0]["zipapp"]["exposure"], "", "<= 0.9"),
    ]
    width = max(len(r[0]) for r in rows)
    head = "%d rounds, each on a fresh Debian 12 test host, variants alternating" % len(rounds)
    lines = [head, "",
             "| %-*s | %12s | %12s | %7s | %7s |" % (width, "", "naive", "zipapp", "ratio", "target"),
             "|-%s-|-%s-|-%s-|-%s-|-%s-|" % ("-" * width, "-" * 12, "-" * 12, "-" * 7, "-" * 7)]
    lines += ["| %-*s | %12s | %12s | %7s | %7s |" % ((width,) + tuple(str(c) for c in r)) for r in rows]
    table = "\n".join(lines)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(table + "\n")
    return table


def main():
    command = sys.argv[1]
    if command == "round":
        host, inventory, artifacts, out_dir, number = sys.argv[2:7]
        order = ("naive", "zipapp") if int(number) % 2 else ("zipapp", "naive")
        results = run_round(host, inventory, artifacts, out_dir, order, number)
        with open(os.path.join(out_dir, "round-%s.json" % number), "w") as f:
            json.dump(results, f, indent=2)
        for v in order:
            r = results[v]
            print("round %s %-6s first %5.2f s  re-run %5.2f s  upgrade %5.2f s  failed %d/%d  max latency %.3f s"
                  % (number, v, r["first"]["seconds"], r["rerun"]["seconds"], r["upgrade"]["seconds"],
                     r["probe"]["failed"], r["probe"]["sent"], r["probe"]["max_latency"]))
    elif command == "report":
        out_dir = sys.argv[2]
        names = sorted(n for n in os.listdir(out_dir) if n.startswith("round-") and n.endswith(".json"))
        rounds = []
        for name in names:
            with open(os.path.join(out_dir, name)) as f:
                rounds.append(json.load(f))
        print(report(rounds, out_dir))
    else:
        raise SystemExit("usage: bench.py round HOST INVENTORY ARTIFACTS OUT N | report OUT")


if __name__ == "__main__":
    main()
