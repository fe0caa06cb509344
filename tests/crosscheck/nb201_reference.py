#!/usr/bin/python3
"""Independent plain-PyTorch reference for the NAS-Bench-201 network and the
zero-cost proxies params, flops, l2_norm, grad_norm, snip, synflow (+ log),
naswot and jacob_cov; plain, grasp, fisher, epe_nas, zen, meco, zico, gradsign,
the NTK family (ntk_cond, ntk_trace, ntk_fro, ntk_mean, ntk_lambda_min, lga) and
gradalign / gradalign_gram (+ gradalign_b1 / gradalign_gram_b1) come from the sibling module
nb201_more_proxies.py.

Used as a cross-check for the C++/LibTorch implementation: both sides build
the network from torch.manual_seed(seed) with the same module construction
order, so weights are bit-identical and scores must agree to float tolerance.

Run with Debian's interpreter (it has torch + numpy):

  /usr/bin/python3 tests/crosscheck/nb201_reference.py --data /work/shared/data \
      --seed 0 --indices 0,1,...,63 --threads 1 --arch-index 0 [--arch-index 5] [--classes 10] \
      [--input-size 32|16] [--proxies LIST]
  /usr/bin/python3 tests/crosscheck/nb201_reference.py --data /work/shared/data --check-params 300

See tests/crosscheck/README.md for the semantics followed by each proxy.
"""

import argparse
import copy
import csv
import json
import math
import os
import random
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nb201_more_proxies as more  # noqa: E402

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2023, 0.1994, 0.2010)
RECORD_BYTES = 3073
IMAGE_SIDE = 32


# --------------------------------------------------------------------------------------------
# Architecture strings
# --------------------------------------------------------------------------------------------

def parse_arch(arch):
    """'|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' -> list of (to_node, from_node, op) in string
    order, i.e. (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2)."""
    edges = []
    nodes = arch.split("+")
    if len(nodes) != 3:
        raise ValueError("bad NB201 arch string: %r" % arch)
    for to_node, node_str in enumerate(nodes, start=1):
        items = [s for s in node_str.split("|") if s]
        if len(items) != to_node:
            raise ValueError("bad NB201 arch string: %r" % arch)
        for expected_from, item in enumerate(items):
            op, frm = item.split("~")
            if op not in OPS or int(frm) != expected_from:
                raise ValueError("bad NB201 arch string: %r" % arch)
            edges.append((to_node, int(frm), op))
    return edges


# --------------------------------------------------------------------------------------------
# Network (module construction order == RNG consumption order; do not reorder)
# --------------------------------------------------------------------------------------------

def make_bn(c):
    return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, padding):
        super().__init__()
        # Registered (and constructed) in this order: ReLU, Conv2d, BatchNorm2d.
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=padding, bias=False),
            make_bn(c_out),
        )

    def forward(self, x):
        return self.op(x)


def make_op(op, c):
    if op == "none":
        return Zero()
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1, 1, 0)
    if op == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3, 1, 1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(op)


class Cell(nn.Module):
    def __init__(self, edges, c):
        super().__init__()
        self.edges = [(t, f) for (t, f, _) in edges]
        self.ops = nn.ModuleList([make_op(op, c) for (_, _, op) in edges])

    def forward(self, x):
        nodes = [x]
        k = 0
        for to_node in (1, 2, 3):
            acc = None
            while k < len(self.edges) and self.edges[k][0] == to_node:
                y = self.ops[k](nodes[self.edges[k][1]])
                acc = y if acc is None else acc + y  # left-to-right in edge order
                k += 1
            nodes.append(acc)
        return nodes[3]


class ReductionBlock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, 1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Net(nn.Module):
    def __init__(self, arch, classes=10, c=16, n=5):
        super().__init__()
        edges = parse_arch(arch)
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), make_bn(c))
        chans = [c] * n + [2 * c] + [2 * c] * n + [4 * c] + [4 * c] * n
        reds = [False] * n + [True] + [False] * n + [True] + [False] * n
        cells = []
        c_prev = c
        for c_cur, red in zip(chans, reds):
            if red:
                cells.append(ReductionBlock(c_prev, c_cur))
            else:
                cells.append(Cell(edges, c_cur))
            c_prev = c_cur
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(make_bn(c_prev), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, classes)

    def forward_features(self, x):
        """Feature map before global average pooling (after the head BN + ReLU)."""
        x = self.stem(x)
        for cell in self.cells:
            x = cell(x)
        return self.lastact(x)

    def forward(self, x):
        x = self.forward_features(x)
        x = self.global_pooling(x)
        x = x.view(x.size(0), -1)
        return self.classifier(x)


def build_net(arch, seed, classes):
    torch.manual_seed(seed)  # immediately before construction
    return NB201Net(arch, classes=classes)


def count_params(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def weight_layers(net):
    """Conv2d and Linear modules in net.modules() order (the reference's
    get_layer_metric_array order)."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

def training_file(data_dir):
    path = os.path.join(data_dir, "cifar10", "data_batch_1_first4000.bin")
    if not os.path.exists(path):
        path = os.path.join(data_dir, "data_batch_1_first4000.bin")
    return path


def load_minibatch(data_dir, indices, size=IMAGE_SIDE):
    path = training_file(data_dir)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % RECORD_BYTES != 0:
        raise ValueError("%s: size %d is not a multiple of %d" % (path, raw.size, RECORD_BYTES))
    recs = raw.reshape(-1, RECORD_BYTES)
    n = recs.shape[0]
    for i in indices:
        if i < 0 or i >= n:
            raise ValueError("sample index %d out of range [0, %d)" % (i, n))
    sel = recs[np.asarray(indices, dtype=np.int64)]
    labels = torch.from_numpy(sel[:, 0].astype(np.int64))
    pix = torch.from_numpy(np.ascontiguousarray(sel[:, 1:])).reshape(-1, 3, IMAGE_SIDE, IMAGE_SIDE)
    # torchvision semantics: ToTensor = byte.float().div(255); Normalize = sub_(mean).div_(std)
    # with mean/std as float32 tensors. All arithmetic in float32.
    if size == IMAGE_SIDE:
        x = pix.to(torch.float32).div(255.0)
    else:
        # ImageNet16-120 surrogate, the C++ make_minibatch arithmetic: per output pixel a float32
        # sum of the f x f bytes (row dy, then column dx; exact, all integers), then
        # sum / (f*f) / 255 as two float32 divisions, then (v - mean) / std.
        if size <= 0 or IMAGE_SIDE % size != 0:
            raise ValueError("input size must divide %d" % IMAGE_SIDE)
        f = IMAGE_SIDE // size
        blocks = pix.to(torch.float32).reshape(-1, 3, size, f, size, f)
        acc = torch.zeros(blocks.shape[0], 3, size, size, dtype=torch.float32)
        for dy in range(f):
            for dx in range(f):
                acc = acc + blocks[:, :, :, dy, :, dx]
        x = acc.div(float(f * f)).div(255.0)
    mean = torch.tensor(CIFAR_MEAN, dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, dtype=torch.float32).view(1, 3, 1, 1)
    x = x.sub(mean).div(std).contiguous()
    return x, labels


# --------------------------------------------------------------------------------------------
# Proxies. Each gets its own deepcopy of the freshly built (never run) network.
# --------------------------------------------------------------------------------------------

def sum_arr(arr):
    """Reference sum: `s = 0.; for a in arr: s += torch.sum(a); s.item()`
    (accumulates in the tensors' dtype, in module order)."""
    s = 0.0
    for a in arr:
        s += torch.sum(a)
    return float(s.item()) if torch.is_tensor(s) else float(s)


def sum_arr_f64(arr):
    s = 0.0
    for a in arr:
        s += float(torch.sum(a.double()).item())
    return s


def proxy_params(net):
    return count_params(net)


def proxy_flops(net, side=IMAGE_SIDE):
    """MACs of every Conv2d and Linear at batch 1 (weights only, no bias adds) / 1e6."""
    macs = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1] * (m.in_channels // m.groups)
        macs[0] += out.numel() * k

    def lin_hook(m, inp, out):
        macs[0] += out.numel() // m.out_features * m.in_features * m.out_features

    hooks = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
    net.eval()
    with torch.no_grad():
        net(torch.zeros(1, 3, side, side))
    for h in hooks:
        h.remove()
    return macs[0] / 1e6, macs[0]


def proxy_l2_norm(net):
    arr = [m.weight.norm() for m in weight_layers(net)]
    return sum_arr(arr), sum_arr_f64(arr)


def proxy_grad_norm(net, x, y):
    net.train()
    net.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    arr = []
    for m in weight_layers(net):
        g = m.weight.grad
        arr.append(g.norm() if g is not None else torch.zeros_like(m.weight))
    return sum_arr(arr), sum_arr_f64(arr)


def proxy_snip(net, x, y):
    net.train()
    net.zero_grad()
    loss = F.cross_entropy(net(x), y)
    loss.backward()
    arr = []
    for m in weight_layers(net):
        g = m.weight.grad
        # reference: |d L / d mask| with W_eff = W * mask, mask = 1  ==  |W * dL/dW| bitwise
        arr.append(torch.abs(m.weight * g) if g is not None else torch.zeros_like(m.weight))
    return sum_arr(arr), sum_arr_f64(arr)


def _no_op(self, x):
    return x


def proxy_synflow(net, side=IMAGE_SIDE):
    # BatchNorm removed: forward replaced by identity (reference copynet(bn=False)).
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm1d)):
            m.forward = types.MethodType(_no_op, m)
    # abs() of every state_dict entry, then float64.
    with torch.no_grad():
        for _, t in net.state_dict().items():
            t.abs_()
    net.double()
    net.train()
    net.zero_grad()
    inp = torch.ones([1, 3, side, side], dtype=torch.float64)
    out = net(inp)
    torch.sum(out).backward()
    arr = []
    for m in weight_layers(net):
        g = m.weight.grad
        arr.append(torch.abs(m.weight * g) if g is not None else torch.zeros_like(m.weight))
    s = sum_arr(arr)  # float64 accumulation (tensors are float64)
    if s > 0 and math.isfinite(s):
        slog = math.log(s)
    elif s == 0:
        slog = float("-inf")
    else:
        slog = float("nan")
    return s, slog


def proxy_naswot(net, x):
    b = x.shape[0]
    K = np.zeros((b, b), dtype=np.float64)

    def hook(m, inp, out):
        a = inp[0].detach().reshape(inp[0].size(0), -1)
        c = (a > 0).to(torch.float64)
        k = c @ c.t() + (1.0 - c) @ (1.0 - c).t()
        K[...] += k.numpy()

    hooks = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    net.train()
    with torch.no_grad():
        net(x.clone())
    for h in hooks:
        h.remove()
    sign, logabsdet = np.linalg.slogdet(K)
    return float(logabsdet), int(round(float(sign))), len(hooks)


def jacob_cov_score(jac_rows, solver="eig"):
    """reference eval_score: corrcoef (float64), eigenvalues, -sum(log(v+k) + 1/(v+k))."""
    with np.errstate(all="ignore"):
        corrs = np.corrcoef(jac_rows)
        if solver == "eig":
            v, _ = np.linalg.eig(corrs)
        else:
            v = np.linalg.eigvalsh(corrs)
        k = 1e-5
        s = -np.sum(np.log(v + k) + 1.0 / (v + k))
    imag = 0.0
    if np.iscomplexobj(s):
        imag = float(np.imag(s))
        s = np.real(s)
    return float(s), imag


def proxy_jacob_cov(net, x):
    net.train()
    net.zero_grad()
    xi = x.clone().requires_grad_(True)
    yhat = net(xi)
    yhat.backward(torch.ones_like(yhat))
    jac = xi.grad.detach().reshape(xi.size(0), -1).numpy()  # float32 rows
    out = {}
    for solver in ("eig", "eigvalsh"):
        try:
            out[solver] = jacob_cov_score(jac, solver)
        except Exception as e:  # reference: print(e); jc = np.nan
            print("jacob_cov (%s): %s" % (solver, e), file=sys.stderr)
            out[solver] = (float("nan"), 0.0)
    return out


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def read_csv(data_dir):
    path = os.path.join(data_dir, "nasbench201", "nb201_ground_truth.csv")
    if not os.path.exists(path):
        path = os.path.join(data_dir, "nb201_ground_truth.csv")
    rows = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            rows[int(r["index"])] = (r["arch"], int(r["params_cifar10"]))
    return rows


def finite_or_none(v, name, nonfinite):
    if isinstance(v, float) and not math.isfinite(v):
        nonfinite[name] = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
        return None
    return v


# Proxy groups: one computation each (on its own deepcopy), giving the listed proxy names.
# Order = evaluation order = key order in the JSON "proxies" object.
def _g_params(fresh, x, y, ctx):
    return {"params": proxy_params(fresh())}, {}


def _g_flops(fresh, x, y, ctx):
    v, macs = proxy_flops(fresh(), ctx["side"])
    return {"flops": v}, {"macs": macs}


def _g_l2(fresh, x, y, ctx):
    v, v64 = proxy_l2_norm(fresh())
    return {"l2_norm": v}, {"l2_norm_f64sum": v64}


def _g_grad_norm(fresh, x, y, ctx):
    v, v64 = proxy_grad_norm(fresh(), x, y)
    return {"grad_norm": v}, {"grad_norm_f64sum": v64}


def _g_snip(fresh, x, y, ctx):
    v, v64 = proxy_snip(fresh(), x, y)
    return {"snip": v}, {"snip_f64sum": v64}


def _g_synflow(fresh, x, y, ctx):
    v, vlog = proxy_synflow(fresh(), ctx["side"])
    return {"synflow": v, "synflow_log": vlog}, {}


def _g_naswot(fresh, x, y, ctx):
    v, sign, count = proxy_naswot(fresh(), x)
    return {"naswot": v}, {"naswot_sign": sign, "naswot_relu_count": count}


def _g_jacob_cov(fresh, x, y, ctx):
    jc = proxy_jacob_cov(fresh(), x)
    extras = {}
    if jc["eig"][1] != 0.0:
        extras["jacob_cov_imag"] = jc["eig"][1]
    extras["jacob_cov_eigvalsh"] = jc["eigvalsh"][0]
    return {"jacob_cov": jc["eig"][0]}, extras


def _g_nngp(fresh, x, y, ctx):
    # Its own M networks, drawn one after the other after a single seeding (not copies of the
    # minibatch network), and its own split of the training images.
    o = ctx["nngp"]
    torch.manual_seed(ctx["seed"])
    return more.compute_nngp(
        lambda: NB201Net(ctx["arch"], classes=ctx["classes"]),
        lambda idx: load_minibatch(o["data"], idx, ctx["side"]),
        os.path.getsize(training_file(o["data"])) // RECORD_BYTES,
        o["train"], o["val"], o["members"], ctx["seed"], ctx["classes"])


PROXY_GROUPS = [
    ("params", ("params",), _g_params),
    ("flops", ("flops",), _g_flops),
    ("l2_norm", ("l2_norm",), _g_l2),
    ("grad_norm", ("grad_norm",), _g_grad_norm),
    ("snip", ("snip",), _g_snip),
    ("synflow", ("synflow", "synflow_log"), _g_synflow),
    ("naswot", ("naswot",), _g_naswot),
    ("jacob_cov", ("jacob_cov",), _g_jacob_cov),
    ("plain", ("plain",), lambda fresh, x, y, ctx: more.compute_plain(fresh(), x, y)),
    ("grasp", ("grasp",), lambda fresh, x, y, ctx: more.compute_grasp(fresh(), x, y)),
    ("fisher", ("fisher",), lambda fresh, x, y, ctx: more.compute_fisher(fresh(), x, y)),
    ("epe_nas", ("epe_nas",),
     lambda fresh, x, y, ctx: more.compute_epe_nas(fresh(), x, y, ctx["classes"])),
    ("zen", ("zen",), lambda fresh, x, y, ctx: more.compute_zen(fresh(), x.shape, ctx["seed"])),
    ("meco", ("meco",), lambda fresh, x, y, ctx: more.compute_meco(fresh(), x)),
    ("zico", ("zico",), lambda fresh, x, y, ctx: more.compute_zico(fresh(), x, y)),
    ("gradsign", ("gradsign",), lambda fresh, x, y, ctx: more.compute_gradsign(fresh(), x, y)),
    ("ntk", ("ntk_cond", "ntk_trace", "ntk_fro", "ntk_mean", "ntk_lambda_min", "lga"),
     lambda fresh, x, y, ctx: more.compute_ntk(fresh(), x, y)),
    ("gradalign", ("gradalign", "gradalign_gram"),
     lambda fresh, x, y, ctx: more.compute_gradalign(fresh(), x, y)),
    ("gradalign_b1", ("gradalign_b1", "gradalign_gram_b1"),
     lambda fresh, x, y, ctx: more.compute_gradalign_b1(fresh(), x, y)),
    ("nngp", ("nngp_acc", "nngp_best_eps", "nngp_val_loss"), _g_nngp),
]
ALL_PROXIES = [name for _, names, _ in PROXY_GROUPS for name in names]


def resolve_proxies(spec):
    """--proxies LIST: comma-separated proxy names (the keys of the JSON "proxies" object), plus
    'ntk' = the six NTK values and 'all' = everything. A name selects only itself (e.g.
    'synflow' without 'synflow_log'), although its whole group is computed. Returns the
    requested names in canonical order."""
    if spec is None or spec.strip() in ("", "all"):
        return list(ALL_PROXIES)
    groups = {g: names for g, names, _ in PROXY_GROUPS}
    want = set()
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if item == "all":
            want.update(ALL_PROXIES)
        elif item in ALL_PROXIES:
            want.add(item)
        elif item in groups:
            want.update(groups[item])
        else:
            raise ValueError("unknown proxy %r (known: %s, groups: ntk, nngp, all)"
                             % (item, ", ".join(ALL_PROXIES)))
    return [n for n in ALL_PROXIES if n in want]


def evaluate(arch_index, arch, seed, classes, x, y, proxies=None, side=IMAGE_SIDE, nngp=None):
    wanted = list(ALL_PROXIES) if proxies is None else list(proxies)
    base = build_net(arch, seed, classes)
    fresh = lambda: copy.deepcopy(base)  # noqa: E731

    res = {"arch_index": arch_index, "arch": arch, "params": count_params(base)}
    res["first_weight_sum"] = float(base.stem[0].weight.sum().item())

    net = fresh()
    net.train()
    with torch.no_grad():
        res["logits_sum"] = float(net(x).sum().item())

    ctx = {"seed": seed, "classes": classes, "side": side, "arch": arch, "nngp": nngp}
    p = {}
    extras = {}
    seconds = {}
    for group, names, fn in PROXY_GROUPS:
        if not any(n in wanted for n in names):
            continue
        t0 = time.perf_counter()
        gp, gx = fn(fresh, x, y, ctx)
        seconds[group] = round(time.perf_counter() - t0, 3)
        for n in names:
            if n in wanted:
                p[n] = gp[n]
        extras.update(gx)

    nonfinite = {}
    res["proxies"] = {k: finite_or_none(v, k, nonfinite) for k, v in p.items()}
    res["extras"] = {k: finite_or_none(v, "extras." + k, nonfinite) for k, v in extras.items()}
    if nonfinite:
        res["nonfinite"] = nonfinite
    res["seconds"] = seconds  # wall time per proxy group (diagnostic only)
    return res


def parse_indices(s):
    out = []
    for part in s.split(","):
        part = part.strip()
        if not part:
            continue
        if ".." in part:
            a, b = part.split("..")
            out.extend(range(int(a), int(b) + 1))
        else:
            out.append(int(part))
    return out


def check_params(rows, n, seed):
    rng = random.Random(seed)
    keys = sorted(rows)
    picks = rng.sample(keys, min(n, len(keys)))
    matches = 0
    for i in picks:
        arch, expect = rows[i]
        got = count_params(NB201Net(arch, classes=10))
        if got == expect:
            matches += 1
        else:
            print("mismatch index %d %s: got %d expected %d" % (i, arch, got, expect),
                  file=sys.stderr)
    # documented fixed points (docs/search_spaces.md)
    fixed = [(0, 10, 129306), (0, 100, 135156), (0, 120, 136456)]
    extra_ok = True
    for i, cls, expect in fixed:
        got = count_params(NB201Net(rows[i][0], classes=cls))
        ok = got == expect
        extra_ok &= ok
        print("index %d classes %d: %d (expected %d) %s" % (i, cls, got, expect,
              "ok" if ok else "MISMATCH"), file=sys.stderr)
    print("%d/%d" % (matches, len(picks)))
    return matches == len(picks) and extra_ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="shared data dir (holds cifar10/ and nasbench201/)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--indices", default="0..63", help="comma list of sample indices, a..b ranges allowed")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--arch-index", type=int, action="append", default=[])
    ap.add_argument("--arch", action="append", default=[], help="explicit arch string (index -1)")
    ap.add_argument("--classes", type=int, default=10,
                    help="classifier outputs: 10 (CIFAR-10), 100 (CIFAR-100), 120 (ImageNet16-120)")
    ap.add_argument("--input-size", type=int, default=IMAGE_SIDE, choices=(32, 16),
                    help="32, or 16 = the ImageNet16-120 surrogate (2x2 box average)")
    ap.add_argument("--proxies", default="all",
                    help="comma list of proxy names (or groups: ntk, all); default all")
    ap.add_argument("--check-params", type=int, default=0, metavar="N")
    ap.add_argument("--nngp-train", type=int, default=1000)
    ap.add_argument("--nngp-val", type=int, default=500)
    ap.add_argument("--nngp-members", type=int, default=4)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    rows = read_csv(args.data)

    if args.check_params:
        ok = check_params(rows, args.check_params, args.seed)
        sys.exit(0 if ok else 1)

    try:
        wanted = resolve_proxies(args.proxies)
    except ValueError as e:
        ap.error(str(e))
    indices = parse_indices(args.indices)
    x, y = load_minibatch(args.data, indices, args.input_size)
    jobs = [(i, rows[i][0]) for i in args.arch_index] + [(-1, a) for a in args.arch]
    nngp = {"data": args.data, "train": args.nngp_train, "val": args.nngp_val,
            "members": args.nngp_members}
    if not jobs:
        ap.error("give at least one --arch-index (or --arch)")
    out = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "seed": args.seed,
        "threads": args.threads,
        "classes": args.classes,
        "input_size": args.input_size,
        "proxies_requested": wanted,
        "indices": indices,
        "labels": [int(v) for v in y.tolist()],
        "input_sum": float(x.double().sum().item()),
        "results": [evaluate(i, a, args.seed, args.classes, x, y, wanted, args.input_size, nngp)
                    for i, a in jobs],
    }
    json.dump(out, sys.stdout, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
