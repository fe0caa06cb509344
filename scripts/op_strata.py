#!/usr/bin/env python3
"""How much of a proxy's correlation with accuracy is its taste for operations.

Reads a results database (and, for NAS-Bench-101, the ground-truth CSV, which holds each cell's
operations) and prints, for one proxy:
  * Kendall tau-b of the proxy's rank_value against the ground truth, over all ok cells;
  * for each operation, Kendall tau-b of its count in the cell against the proxy and against the
    ground truth (what each of them "prefers");
  * the Kendall tau-b within strata of equal operation counts (pair-weighted mean over strata of at
    least 5 cells): the proxy's ranking among cells that use the same operations.
A proxy whose overall tau is near zero but whose within-strata tau is clearly positive ranks cells
well except for an operation preference that accuracy does not share (docs/decisions.md, NNGP).

  scripts/op_strata.py --db results/nb101_nngp250.sqlite --proxy nngp_acc
Standard library only; Kendall tau-b by the O(n^2) definition (n up to a few thousand).
"""
import argparse
import csv
import math
import os
import sqlite3
import sys
from collections import defaultdict

NB201_OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
NB101_OPS = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"]


def kendall_tau_b(x, y):
    concordant = tied_x = tied_y = 0
    n = len(x)
    num = 0
    for i in range(n):
        for j in range(i + 1, n):
            dx = (x[i] > x[j]) - (x[i] < x[j])
            dy = (y[i] > y[j]) - (y[i] < y[j])
            num += dx * dy
            tied_x += dx == 0
            tied_y += dy == 0
    pairs = n * (n - 1) // 2
    den = math.sqrt((pairs - tied_x) * (pairs - tied_y))
    return num / den if den > 0 else float("nan")


def within_strata(keys, x, y, min_size=5):
    groups = defaultdict(list)
    for k, a, b in zip(keys, x, y):
        groups[k].append((a, b))
    total = weight = 0.0
    used = 0
    for members in groups.values():
        if len(members) < min_size:
            continue
        tau = kendall_tau_b([m[0] for m in members], [m[1] for m in members])
        if math.isnan(tau):
            continue
        pairs = len(members) * (len(members) - 1) / 2
        total += tau * pairs
        weight += pairs
        used += len(members)
    return (total / weight if weight else float("nan")), used


def op_counts(space, arch, nb101_ops):
    if space == "nb201":  # |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
        ops = [t.split("~")[0] for t in arch.split("|") if "~" in t]
        return {op: ops.count(op) for op in NB201_OPS}
    ops = nb101_ops[arch]
    return {op: ops.count(op) for op in NB101_OPS}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", required=True)
    p.add_argument("--proxy", required=True)
    p.add_argument("--run", type=int, help="run id (default: the only run scoring the proxy)")
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--split", help="ground-truth split (default: test, else valid)")
    p.add_argument("--epochs", type=int, help="ground-truth epochs (default: the longest)")
    p.add_argument("--data", default="../shared/data", help="data folder (NB101 operations)")
    a = p.parse_args(argv)
    if not os.path.exists(a.db):
        sys.exit(f"op_strata: {a.db}: no such database")
    db = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    runs = [r[0] for r in db.execute(
        "SELECT DISTINCT s.run_id FROM scores s JOIN proxies p USING (proxy_id) WHERE p.name = ?",
        (a.proxy,))]
    if not runs:
        sys.exit(f"op_strata: {a.db} has no scores of proxy {a.proxy!r}")
    if a.run is None and len(runs) > 1:
        sys.exit(f"op_strata: proxy {a.proxy!r} is scored by runs {runs}: choose one with --run")
    run = a.run if a.run is not None else runs[0]
    space = db.execute("SELECT space FROM runs WHERE run_id = ?", (run,)).fetchone()
    if space is None:
        sys.exit(f"op_strata: {a.db} has no run {run}")
    space = space[0]
    splits = [r[0] for r in db.execute(
        "SELECT DISTINCT split FROM ground_truth WHERE space = ? AND dataset = ?", (space, a.dataset))]
    split = a.split or ("test" if "test" in splits else "valid")
    epochs = a.epochs
    if epochs is None:
        epochs = db.execute("SELECT MAX(epochs) FROM ground_truth WHERE space = ? AND dataset = ? "
                            "AND split = ?", (space, a.dataset, split)).fetchone()[0]
    if epochs is None:
        sys.exit(f"op_strata: {a.db} has no {space} {a.dataset} {split} ground truth")
    rows = db.execute(
        """SELECT a.arch, s.rank_value, g.value FROM scores s
           JOIN architectures a USING (arch_id) JOIN proxies p USING (proxy_id)
           JOIN ground_truth g ON g.space = a.space AND g.arch_index = a.arch_index
            AND g.dataset = ? AND g.split = ? AND g.epochs = ?
           WHERE p.name = ? AND s.run_id = ? AND s.status = 'ok'""",
        (a.dataset, split, epochs, a.proxy, run)).fetchall()
    nb101_ops = {}
    if space == "nb101":
        path = os.path.join(a.data, "nasbench101", "nb101_ground_truth_20k.csv")
        with open(path, newline="") as f:
            for line, r in enumerate(csv.DictReader(f), start=2):
                if "module_hash" not in r or "operations" not in r:
                    sys.exit(f"op_strata: {path}:{line}: no module_hash/operations column")
                nb101_ops[r["module_hash"]] = r["operations"].split("|")
        missing = [arch for arch, _, _ in rows if arch not in nb101_ops]
        if missing:
            sys.exit(f"op_strata: {path} lacks cell {missing[0]} (and {len(missing) - 1} more)")
    ops = NB201_OPS if space == "nb201" else NB101_OPS
    counts = [op_counts(space, arch, nb101_ops) for arch, _, _ in rows]
    score = [r[1] for r in rows]
    truth = [r[2] for r in rows]
    print(f"{a.proxy} (run {run}, {space}) against {a.dataset} {split} {epochs}-epoch accuracy, "
          f"n = {len(rows)}")
    print(f"  Kendall tau-b, all cells: {kendall_tau_b(score, truth):+.3f}")
    print(f"  {'operation':18s} {'tau(count, proxy)':>18s} {'tau(count, acc)':>16s} "
          f"{'tau within strata':>18s} {'cells':>6s}")
    for op in ops:
        c = [k[op] for k in counts]
        within, used = within_strata(c, score, truth)
        print(f"  {op:18s} {kendall_tau_b(c, score):+18.3f} {kendall_tau_b(c, truth):+16.3f} "
              f"{within:+18.3f} {used:6d}")
    joint = [tuple(k[op] for op in ops) for k in counts]
    within, used = within_strata(joint, score, truth)
    print(f"  {'all counts jointly':18s} {'':18s} {'':16s} {within:+18.3f} {used:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
