#!/usr/bin/env python3
"""Source check for the layout (issue #29, README "Layout"): every folder is one layer and
includes only from its own folder or the folders below it, and no torch-free library reaches
<torch/...> through any chain of project headers.

Layers, bottom up: foundation, datasets, spaces, proxies, benchmarks_db, reports, suite, bench.
The torch-free libraries are the ones CMakeLists.txt lists after `foreach(torch_free`; their
sources are read from its `add_library(NAME STATIC ...)` calls, so the build file stays the one
place that says which file is in which library.

It reads `#include "..."` lines as text: an include made by a macro is not seen. The compiler sees
what this cannot (a missing include fails the build), and this sees what the compiler cannot (an
include that works but runs the wrong way).

usage: layering_lint.py SOURCE_ROOT      exit 0 = clean, 1 = findings (each as FILE:LINE: ...)
"""
import os
import re
import sys

LAYERS = ("foundation", "datasets", "spaces", "proxies", "benchmarks_db", "reports", "suite",
          "bench")
SOURCE = re.compile(r".*\.(h|cpp)$")
PROJECT_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
TORCH_INCLUDE = re.compile(r"^\s*#\s*include\s+<(torch|ATen|c10)/")


def project_includes(root, path):
    """(line number, included path relative to root) of each quoted include of `path`."""
    out = []
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            m = PROJECT_INCLUDE.match(line)
            if m:
                out.append((number, m.group(1)))
    return out


def direct_torch_include(root, path):
    with open(os.path.join(root, path), encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if TORCH_INCLUDE.match(line):
                return number
    return None


def layer_findings(root):
    findings, files = [], 0
    for rank, layer in enumerate(LAYERS):
        folder = os.path.join(root, layer)
        for dirpath, _, names in os.walk(folder):
            for name in sorted(names):
                if not SOURCE.match(name):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                files += 1
                for number, included in project_includes(root, path):
                    top = included.split("/", 1)[0]
                    if top == "tests":
                        findings.append(f"{path}:{number}: includes test code {included}")
                    elif top in LAYERS and LAYERS.index(top) > rank:
                        findings.append(f"{path}:{number}: layer {layer} includes {included} from "
                                        f"the higher layer {top}")
    return findings, files


def torch_free_sources(root):
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        cmake = re.sub(r"#[^\n]*", "", f.read())
    listed = re.search(r"foreach\(\s*torch_free\s+([^)]*)\)", cmake)
    if not listed:
        sys.exit("layering_lint: CMakeLists.txt has no `foreach(torch_free ...)` list")
    libraries = listed.group(1).split()
    sources = {}
    for name, body in re.findall(r"add_library\(\s*(\w+)\s+STATIC\s+([^)]*)\)", cmake):
        sources[name] = [s for s in body.split() if not s.startswith("${")]
    missing = [lib for lib in libraries if lib not in sources]
    if missing:
        sys.exit(f"layering_lint: CMakeLists.txt lists {missing} as torch-free but defines no "
                 "such STATIC library")
    return {lib: sources[lib] for lib in libraries}


def torch_findings(root):
    """A torch-free source, or any project header it reaches, that includes <torch/...>."""
    findings, reported = [], set()
    for lib, sources in torch_free_sources(root).items():
        for source in sources:
            seen, chain = set(), {source: [source]}
            stack = [source]
            while stack:
                path = stack.pop()
                if path in seen or not os.path.exists(os.path.join(root, path)):
                    continue
                seen.add(path)
                number = direct_torch_include(root, path)
                if number is not None and (lib, path) not in reported:
                    reported.add((lib, path))
                    findings.append(f"{path}:{number}: includes LibTorch, reached from the "
                                    f"torch-free library {lib} by {' -> '.join(chain[path])}")
                for _, included in project_includes(root, path):
                    if included not in chain:
                        chain[included] = chain[path] + [included]
                    stack.append(included)
    return findings


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    findings, files = layer_findings(root)
    findings += torch_findings(root)
    for f in findings:
        print(f)
    print(f"layering_lint: {files} files in {len(LAYERS)} layers, {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
