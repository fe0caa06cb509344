#!/usr/bin/env python3
"""CPU reference scores for the GPU check, and the comparison of GPU scores with them (issue #26).

  gpu_compare.py make-reference NASBENCH DATA OUT.json [--archs 3,14452,1462,0,10]
      runs `NASBENCH score --device cpu --proxies all` (seed 0, the default minibatch and NNGP
      split, 1 thread) on each architecture and stores the answers (tests/gpu/ keeps them).
  gpu_compare.py compare REFERENCE.json SCORE.json [SCORE.json ...]
      SCORE.json: `nasbench score --device cuda` answers (one JSON object each, or a file of
      such objects, one per line). Prints a Markdown table per proxy: both sides ok on the same
      architectures, the largest and median relative difference, whether the ranks over the
      architectures are identical, and the GPU seconds (median over architectures). Exit status 1
      when a proxy is ok on one side and failed on the other.
  gpu_compare.py close-bench-json BENCH.json
      Google Benchmark writes its JSON as it goes and closes it at the end: after a time-boxed run
      was stopped, keeps the benchmarks that finished and closes the file, so that
      `nasbench import-bench` reads it. A complete file is left as it is.

Python 3 standard library only: it runs on the GPU machine as well.
"""
import json
import statistics
import subprocess
import sys

DEFAULT_ARCHS = [3, 14452, 1462, 0, 10]  # NB201 smallest, median, largest by params; 0; 10 dead


def load_answers(path):
    with open(path, encoding="utf-8") as f:
        text = f.read().strip()
    try:
        doc = json.loads(text)
        return doc["answers"] if isinstance(doc, dict) and "answers" in doc else (
            doc if isinstance(doc, list) else [doc])
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def make_reference(nasbench, data, out, archs):
    answers = []
    for a in archs:
        cmd = [nasbench, "score", "--space", "nb201", "--arch-index", str(a), "--seed", "0",
               "--threads", "1", "--device", "cpu", "--proxies", "all", "--data", data]
        print("running", " ".join(cmd), file=sys.stderr, flush=True)
        answers.append(json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                                 text=True).stdout))
    version = subprocess.run([nasbench, "version"], capture_output=True, text=True).stdout.strip()
    doc = {"what": "nasbench score --device cpu --proxies all on NB201 archs " +
                   ",".join(map(str, archs)) + " (seed 0, default minibatch and NNGP split, "
                   "1 thread): the CPU side of scripts/gpu_check.sh's agreement table",
           "made_by": version, "answers": answers}
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0] * len(values)
    for rank, i in enumerate(order):
        r[i] = rank
    return r


def compare(reference_path, score_paths):
    ref = {a["arch_index"]: a for a in load_answers(reference_path)}
    gpu = {}
    for p in score_paths:
        for a in load_answers(p):
            gpu[a["arch_index"]] = a
    archs = [a for a in ref if a in gpu]
    if not archs:
        print("no architecture is on both sides", file=sys.stderr)
        return 2
    names = [n for n in ref[archs[0]]["proxies"] if all(n in gpu[a]["proxies"] for a in archs)]
    unscored = [n for n in ref[archs[0]]["proxies"] if n not in names]
    devices = sorted({gpu[a].get("device", "?") for a in archs})
    print(f"GPU ({', '.join(devices)}) against CPU scores of NB201 architectures "
          f"{', '.join(map(str, archs))}; relative difference |gpu - cpu| / |cpu|.\n")
    print("| proxy | ok cpu / gpu | status agrees | max rel diff | median rel diff | "
          "ranks identical | GPU s (median) |")
    print("|---|---|---|---|---|---|---|")
    mismatched = 0
    for name in names:
        cpu_rows = [ref[a]["proxies"][name] for a in archs]
        gpu_rows = [gpu[a]["proxies"][name] for a in archs]
        ok_c = sum(r["ok"] for r in cpu_rows)
        ok_g = sum(r["ok"] for r in gpu_rows)
        agrees = all(c["ok"] == g["ok"] for c, g in zip(cpu_rows, gpu_rows))
        mismatched += not agrees
        both = [(c["value"], g["value"]) for c, g in zip(cpu_rows, gpu_rows) if c["ok"] and g["ok"]]
        diffs = [abs(g - c) / abs(c) if c != 0 else abs(g - c) for c, g in both]
        max_d = f"{max(diffs):.2e}" if diffs else "-"
        med_d = f"{statistics.median(diffs):.2e}" if diffs else "-"
        same_ranks = ("yes" if ranks([c for c, _ in both]) == ranks([g for _, g in both]) else "no") \
            if len(both) > 1 else "-"
        secs = [g.get("seconds") for g in gpu_rows if g.get("seconds") is not None]
        sec = f"{statistics.median(secs):.4f}" if secs else "-"
        print(f"| {name} | {ok_c} / {ok_g} | {'yes' if agrees else 'NO'} | {max_d} | {med_d} | "
              f"{same_ranks} | {sec} |")
    passes = sorted({p for a in archs for p in gpu[a].get("passes", {})})
    if passes:
        print("\n| pass | GPU s (median) | CPU s (median, reference machine) |\n|---|---|---|")
        for p in passes:
            g = [gpu[a]["passes"][p] for a in archs if p in gpu[a].get("passes", {})]
            c = [ref[a]["passes"][p] for a in archs if p in ref[a].get("passes", {})]
            print(f"| {p} | {statistics.median(g):.4f} | "
                  f"{statistics.median(c):.4f} |" if c else f"| {p} | {statistics.median(g):.4f} | - |")
    if unscored:
        print(f"\nnot scored on the GPU side: {', '.join(unscored)}")
    print(f"\n{mismatched} proxies whose ok/failed status differs between CPU and GPU")
    return 1 if mismatched else 0


def close_bench_json(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        json.loads(text)
        return 0
    except json.JSONDecodeError:
        pass
    # Benchmarks are objects of the "benchmarks" list, each closed by a line of four spaces + "}".
    end = text.rfind("\n    }")
    if end < 0 or '"benchmarks": [' not in text:
        print(f"{path}: no finished benchmark to keep", file=sys.stderr)
        return 1
    closed = text[:end] + "\n    }\n  ]\n}\n"
    doc = json.loads(closed)
    with open(path, "w", encoding="utf-8") as f:
        f.write(closed)
    print(f"{path}: closed after {len(doc['benchmarks'])} finished benchmarks", file=sys.stderr)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "make-reference":
        archs = DEFAULT_ARCHS
        if "--archs" in argv:
            archs = [int(a) for a in argv[argv.index("--archs") + 1].split(",")]
        return make_reference(argv[2], argv[3], argv[4], archs)
    if len(argv) >= 4 and argv[1] == "compare":
        return compare(argv[2], argv[3:])
    if len(argv) == 3 and argv[1] == "close-bench-json":
        return close_bench_json(argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
