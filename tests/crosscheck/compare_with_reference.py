#!/usr/bin/env python3
"""Compares `nasbench score` (C++/LibTorch) with nb201_reference.py (plain PyTorch, written
independently from the specification) on a few NAS-Bench-201 architectures: same seed, same
minibatch, one thread. Exit 0 = all agree, 1 = a mismatch, 77 = skipped (no torch in this Python).

usage: compare_with_reference.py NASBENCH_BINARY DATA_DIR
"""
import json
import math
import os
import subprocess
import sys

# Degenerate cells included on purpose: 10 has an identically zero cell output, 1651 is all `none`.
ARCHS = [0, 1, 1462, 10, 1651]
SEED = 0
INDICES = list(range(64))
# float32 reductions in different kernels differ in the last bits; float64 paths agree closely.
REL_TOL = {"params": 0, "flops": 1e-12, "synflow": 1e-9, "synflow_log": 1e-12,
           "naswot": 1e-9, "jacob_cov": 1e-6, "l2_norm": 1e-6, "grad_norm": 1e-5, "snip": 1e-5}
# Compared only when `nasbench score` reports them (the reference computes only what is compared,
# so the test stays fast while the C++ side does not have them). Signed sums (plain, grasp) cancel
# heavily, zico divides by |g1 - g2|: looser. gradsign counts signs of float32 per-sample
# gradients, which the C++ side takes from the batch-1 fast path and the reference from its loop
# of batch-1 passes: on full-size cells the two counts differ by up to 3e-4 of the score (1.7e-4
# on arch 1462 here), each as far from a float64 loop's count (docs/decisions.md, "gradsign").
OPTIONAL_REL_TOL = {"plain": 1e-3, "grasp": 1e-3, "fisher": 1e-4, "epe_nas": 1e-6, "zen": 1e-5,
                    "meco": 1e-4, "zico": 1e-3, "gradsign": 5e-4}
# The NTK family costs 64 backward passes per architecture on each side: compared only with
# NBZ_CROSSCHECK_NTK=1 (its own ctest, on the architectures named by NBZ_CROSSCHECK_ARCHS).
# gradalign*_b1: the C++ side takes the batch-1 fast path (one forward with per-sample BatchNorm),
# the reference loops over batch-1 forwards; float32 batch-1 gradients are sensitive to summation
# order (docs/decisions.md, "GradAlign"), hence the looser tolerance.
NTK_REL_TOL = {"ntk_cond": 1e-4, "ntk_trace": 1e-5, "ntk_fro": 1e-5, "ntk_mean": 1e-5,
               "ntk_lambda_min": 1e-4, "lga": 1e-5, "gradalign": 1e-5, "gradalign_gram": 1e-4,
               "gradalign_b1": 1e-3, "gradalign_gram_b1": 1e-3}
# NNGP (NBZ_CROSSCHECK_NNGP=1, its own ctest) on a small split so that it costs seconds: both
# sides draw the same split, build the same M networks and solve in float64, so the accuracy and
# the eps must agree exactly (arch 10, whose cell output is zero, fails on both sides).
NNGP_REL_TOL = {"nngp_acc": 0, "nngp_best_eps": 1e-12, "nngp_val_loss": 1e-9}
EXTRA_ARGS = []
# Issue #28's acceptance of fisher against zero-cost-nas's definition: besides each cell's
# tolerance, the median ratio C++/reference over the cells within [0.9, 1.1] and the Spearman
# over the cells >= 0.98 (NBZ_CROSSCHECK_FISHER=1, its own ctest on NB201 cells 0-9).
SUMMARY_BOUNDS = {}
if os.environ.get("NBZ_CROSSCHECK_FISHER", "") not in ("", "0"):
    REL_TOL = {"params": 0}
    OPTIONAL_REL_TOL = {"fisher": 1e-4}
    SUMMARY_BOUNDS = {"fisher": (0.9, 1.1, 0.98)}
    ARCHS = list(range(10))
elif os.environ.get("NBZ_CROSSCHECK_NTK", "") not in ("", "0"):
    REL_TOL = {"params": 0}
    OPTIONAL_REL_TOL = NTK_REL_TOL
elif os.environ.get("NBZ_CROSSCHECK_NNGP", "") not in ("", "0"):
    REL_TOL = {"params": 0}
    OPTIONAL_REL_TOL = NNGP_REL_TOL
    EXTRA_ARGS = ["--nngp-train", "100", "--nngp-val", "50", "--nngp-members", "2"]
if os.environ.get("NBZ_CROSSCHECK_ARCHS"):
    ARCHS = [int(a) for a in os.environ["NBZ_CROSSCHECK_ARCHS"].split(",")]


def openblas_kernel(blas):
    """The kernel an OpenBLAS DYNAMIC_ARCH build runs, from `nasbench score`'s "blas" string
    ("... USE_OPENMP Cooperlake MAX_THREADS=64)"), or None."""
    if "DYNAMIC_ARCH" not in blas:
        return None
    for end in (" MAX_THREADS", " SINGLE_THREADED"):
        if end in blas:
            words = blas[:blas.index(end)].split()
            return words[-1] if words and "_" not in words[-1] else None
    return None


def ranks(values):
    """Average ranks (1-based) with ties sharing their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(xs, ys):
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else float("nan")


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def main():
    binary, data = sys.argv[1], sys.argv[2]
    try:
        import torch  # noqa: F401  (only to know whether the reference can run)
    except ImportError:
        print("skipped: this python has no torch (install Debian's python3-torch)")
        return 77
    here = os.path.dirname(os.path.abspath(__file__))
    # Ask the binary only for what is compared (never e.g. the slow NNGP proxies): the fixed list
    # plus the optional names it knows (`nasbench proxies` lists one name per unindented line).
    # NBZ_CROSSCHECK_BASE_ONLY=1 restricts the run to the fixed list (about 30 s instead of ~7 min).
    requested = list(REL_TOL)
    if os.environ.get("NBZ_CROSSCHECK_BASE_ONLY", "") in ("", "0"):
        listing = subprocess.run([binary, "proxies"], capture_output=True, text=True)
        known = {line.split()[0] for line in listing.stdout.splitlines()
                 if line.strip() and not line[0].isspace()} if listing.returncode == 0 else set()
        requested += [name for name in OPTIONAL_REL_TOL if name in known]
    cpp = {}
    for a in ARCHS:
        cpp[a] = json.loads(subprocess.run(
            [binary, "score", "--arch-index", str(a), "--seed", str(SEED),
             "--batch-indices", ",".join(map(str, INDICES)), "--threads", "1", "--data", data,
             "--proxies", ",".join(requested)] + EXTRA_ARGS,
            check=True, capture_output=True, text=True).stdout)
    tolerances = dict(REL_TOL)
    for name, tol in OPTIONAL_REL_TOL.items():
        if all(name in cpp[a]["proxies"] for a in ARCHS):
            tolerances[name] = tol
    ref_cmd = [sys.executable, os.path.join(here, "nb201_reference.py"), "--data", data,
               "--seed", str(SEED), "--indices", ",".join(map(str, INDICES)), "--threads", "1",
               "--proxies", ",".join(tolerances)] + EXTRA_ARGS
    for a in ARCHS:
        ref_cmd += ["--arch-index", str(a)]
    # The same OpenBLAS kernel as the binary (which restarts itself with the CPU's kernel where
    # OpenBLAS falls back to Prescott): with another kernel, float32 gradients round differently
    # and sign counts (gradsign) or tiny ratios (zico) differ (docs/decisions.md, "Reference
    # comparison").
    env = dict(os.environ)
    kernel = openblas_kernel(cpp[ARCHS[0]].get("blas", ""))
    if kernel:
        env["OPENBLAS_CORETYPE"] = kernel
    reference = json.loads(subprocess.run(ref_cmd, check=True, capture_output=True, text=True,
                                          env=env).stdout)
    failures, compared = [], 0
    for ref in reference["results"]:
        ours = cpp[ref["arch_index"]]
        for name, tol in tolerances.items():
            expected = ref["proxies"][name]
            got = ours["proxies"][name]
            compared += 1
            where = f"arch {ref['arch_index']} {name}: C++ {got} vs reference {expected}"
            if expected is None:  # NaN/inf in the reference must be a failure row here
                if got["ok"]:
                    failures.append(where)
            elif not got["ok"] or not math.isclose(got["value"], expected, rel_tol=tol,
                                                   abs_tol=1e-12 if tol else 0):
                failures.append(where)
    # Per proxy over the architectures where both sides have a nonzero value: the median ratio
    # C++/reference and the Spearman of the two columns (printed; enforced for SUMMARY_BOUNDS).
    for name in tolerances:
        pairs = [(cpp[r["arch_index"]]["proxies"][name]["value"], r["proxies"][name])
                 for r in reference["results"]
                 if r["proxies"][name] not in (None, 0) and cpp[r["arch_index"]]["proxies"][name]["ok"]]
        if len(pairs) < 2:
            continue
        ratio = median([c / r for c, r in pairs])
        rho = spearman([c for c, _ in pairs], [r for _, r in pairs])
        print(f"{name}: {len(pairs)} archs, median ratio C++/reference {ratio:.6f}, Spearman {rho:.4f}")
        if name in SUMMARY_BOUNDS:
            lo, hi, min_rho = SUMMARY_BOUNDS[name]
            compared += 1
            if not (lo <= ratio <= hi and rho >= min_rho):
                failures.append(f"{name}: median ratio {ratio} outside [{lo}, {hi}] or Spearman "
                                f"{rho} below {min_rho}")
    print(f"{compared - len(failures)} passed, {len(failures)} failed")
    for f in failures:
        print("MISMATCH", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
