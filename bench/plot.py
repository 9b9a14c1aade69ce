#!/usr/bin/env python3
"""Plot the probe across one upgrade, naive restart vs the handover (bench/results -> PNG).

    bench/plot.py bench/results [ROUND] [OUT.png]

The title gives the size of the upgrade's pyz (examples/dist/demoapp-2.0.0.pyz, the file bench/run served).
"""

import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return [(float(r["t"]), float(r["latency"]), int(r["status"]), r["version"]) for r in rows]


PYZ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "dist", "demoapp-2.0.0.pyz")


def pyz_size():
    """``9.3 MB``, or ``size unknown`` when the example was not built."""
    try:
        return "%.1f MB" % (os.path.getsize(PYZ) / 1e6)
    except OSError:
        return "size unknown"


def main():
    results = sys.argv[1]
    number = sys.argv[2] if len(sys.argv) > 2 else "1"
    out = sys.argv[3] if len(sys.argv) > 3 else os.path.join(results, "upgrade-probe.png")
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    titles = {"naive": "naive: download + symlink + systemctl restart (no socket)",
              "zipapp": "containerless.zipapp: handover on one socket (the new release boots beside the old)"}
    for ax, variant in zip(axes, ("naive", "zipapp")):
        rows = load(os.path.join(results, "probe-%s-round%s.csv" % (variant, number)))
        ok = [(t, lat * 1000) for t, lat, status, _ in rows if status == 200]
        bad = [(t, lat * 1000) for t, lat, status, _ in rows if status != 200]
        if ok:
            ax.plot([t for t, _ in ok], [ms for _, ms in ok], ".", markersize=2, color="tab:blue",
                    label="answered (%d)" % len(ok))
        if bad:
            ax.plot([t for t, _ in bad], [ms for _, ms in bad], "x", markersize=4, color="tab:red",
                    label="failed (%d)" % len(bad))
        ax.set_yscale("log")
        ax.set_ylabel("latency (ms)")
        ax.set_title(titles[variant], fontsize=10)
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(True, which="both", alpha=0.3)
    axes[-1].set_xlabel("seconds since the probe started (one GET every 20 ms on 127.0.0.1)")
    fig.suptitle("Upgrade 1.0.0 -> 2.0.0 of the example Django app (%s pyz), round %s"
                 % (pyz_size(), number))
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
