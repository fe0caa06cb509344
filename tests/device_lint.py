#!/usr/bin/env python3
"""Source check for the GPU path (issue #26): every tensor the engine, proxies, networks, training
and benchmarks make must take the device of the data it meets, or say why it lives on the CPU.

A tensor factory call (torch::zeros, ones, empty, full, randn, rand, randint, randperm, arange,
linspace, logspace, eye, tensor, from_blob, normal, scalar_tensor) passes when its statement
names options or a device (`x.options()`, `options`, `.device(`) or moves the result (`.to(`).
Otherwise, and for every explicit move to the host (`.cpu()`, `.to(torch::kCPU`), the line or the
comment lines right above it must carry `cpu:` followed by the reason, e.g.
`// cpu: the NNGP kernels are solved in float64 on the CPU`.

This complements tests/device_options_test.cpp (the engine in float64), which cannot see a
tensor made with an explicit dtype but no device. Neither can see a random draw on a device
generator; the GPU check's agreement with CPU scores does (scripts/gpu_check.sh).

usage: device_lint.py SOURCE_ROOT      exit 0 = clean, 1 = findings (each as FILE:LINE: ...)
"""
import os
import re
import sys

FOLDERS = ("foundation", "spaces", "proxies", "suite", "bench")
FACTORY = re.compile(r"\b(?:torch|at)::(zeros|ones|empty|full|randn|rand|randint|randperm|arange|"
                     r"linspace|logspace|eye|tensor|from_blob|normal|scalar_tensor)\s*\(")
TO_HOST = re.compile(r"\.cpu\(\)|\.to\(\s*torch::kCPU")
PLACED = re.compile(r"options|\.device\(|\.to\(")


def statement_from(text, start):
    """From `start`, just inside a call's '(', to the end of the enclosing statement (a ';'
    outside parentheses, or the bracket that closes the enclosing expression)."""
    depth = 1
    for i in range(start, len(text)):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth < 0:
                return text[start:i]
        elif c == ";" and depth == 0:
            return text[start:i]
    return text[start:]


def annotated(lines, index):
    """`cpu:` on line `index`, on the earlier lines of its statement, or in the comment lines
    directly above the statement."""
    j = index
    while j >= 0:
        if "cpu:" in lines[j]:
            return True
        j -= 1
        if j < 0:
            break
        above = lines[j].split("//")[0].rstrip()
        if lines[j].strip().startswith("//"):
            continue  # a comment line above: keep looking for the reason
        if not above or above.endswith((";", "{", "}")):
            # the statement starts at j + 1; only comment lines above it still count
            while j >= 0 and lines[j].strip().startswith("//"):
                if "cpu:" in lines[j]:
                    return True
                j -= 1
            return False
    return False


def check_file(path, rel):
    findings = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if "torch" not in text:
        return findings
    lines = text.split("\n")
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)

    def line_of(offset):
        lo, hi = 0, len(line_starts) - 1
        while lo < hi - 1:
            mid = (lo + hi) // 2
            if line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid
        return lo

    for m in FACTORY.finditer(text):
        index = line_of(m.start())
        if lines[index].lstrip().startswith("//"):
            continue
        stmt = statement_from(text, m.end())
        if PLACED.search(stmt) or annotated(lines, index):
            continue
        findings.append(f"{rel}:{index + 1}: torch::{m.group(1)} without the options or device of "
                        f"the data it meets (add them, or say why with '// cpu: ...')")
    for m in TO_HOST.finditer(text):
        index = line_of(m.start())
        if lines[index].lstrip().startswith("//") or annotated(lines, index):
            continue
        findings.append(f"{rel}:{index + 1}: a move to the host without '// cpu: <why>'")
    return findings


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    root = sys.argv[1]
    findings, files = [], 0
    for folder in FOLDERS:
        for dirpath, _, names in os.walk(os.path.join(root, folder)):
            for name in sorted(names):
                if name.endswith((".cpp", ".h")):
                    path = os.path.join(dirpath, name)
                    files += 1
                    findings += check_file(path, os.path.relpath(path, root))
    for f in findings:
        print(f)
    print(f"device_lint: {files} files, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
