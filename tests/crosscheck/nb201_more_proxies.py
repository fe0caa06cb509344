"""Second half of the plain-PyTorch NAS-Bench-201 cross-check: the proxies plain, grasp, fisher,
epe_nas, zen, meco, zico, gradsign, the NTK family (ntk_cond, ntk_trace, ntk_fro, ntk_mean,
ntk_lambda_min, lga), gradalign / gradalign_gram (+ their batch-1 variants gradalign_b1 /
gradalign_gram_b1) and the NNGP Monte-Carlo accuracy (nngp_acc, nngp_best_eps, nngp_val_loss).

Imported by nb201_reference.py (which owns the network, the data and the CLI). Every function
takes its own freshly deep-copied, never-run network. Written from the specification
(docs/proxies.md) and the semantics of the reference implementations named in README.md; no code
is taken from them.

Each compute_* function returns (proxies, extras): two dicts name -> float/int.
"""

import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------
# Helpers (kept local so that this module does not import the script that imports it)
# --------------------------------------------------------------------------------------------

def weighted_layers(net):
    """Conv2d and Linear modules in net.modules() order (= construction order)."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def ref_sum(arr):
    """zero-cost-nas `sum_arr`: a running `0. + torch.sum(t)` in module order, i.e. accumulated
    in the tensors' dtype (float32 here)."""
    s = 0.0
    for a in arr:
        s += torch.sum(a)
    return float(s.item()) if torch.is_tensor(s) else float(s)


def f64_sum(arr):
    s = 0.0
    for a in arr:
        s += float(torch.sum(a.double()).item())
    return s


def _f(v):
    return float(v.item()) if torch.is_tensor(v) else float(v)


# --------------------------------------------------------------------------------------------
# Gradient-at-initialisation family
# --------------------------------------------------------------------------------------------

def compute_plain(net, x, y):
    """zero-cost-nas measures/plain.py: W * dL/dW (signed), summed."""
    net.train()
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    arr = []
    for m in weighted_layers(net):
        g = m.weight.grad
        arr.append(g * m.weight if g is not None else torch.zeros_like(m.weight))
    return {"plain": ref_sum(arr)}, {"plain_f64sum": f64_sum(arr)}


def compute_grasp(net, x, y):
    """zero-cost-nas measures/grasp.py with T = 1, num_iters = 1, split_data = 1:
    g = dL/dW from a first forward (no graph kept); a second forward gives dL/dW with
    create_graph; z = sum_l <g_l (detached), dL/dW_l>; z.backward() puts H g into W.grad;
    metric = -W * (H g), summed."""
    net.train()
    weights = [m.weight for m in weighted_layers(net)]
    net.zero_grad()
    out = net(x) / 1.0  # T = 1
    g_first = torch.autograd.grad(F.cross_entropy(out, y), weights, allow_unused=True)
    out = net(x) / 1.0
    g_graph = torch.autograd.grad(F.cross_entropy(out, y), weights, create_graph=True,
                                  allow_unused=True)
    z = 0
    for a, b in zip(g_first, g_graph):
        if a is not None:
            z = z + (a.detach() * b).sum()
    z.backward()
    arr = []
    for w in weights:
        arr.append(-w.detach() * w.grad if w.grad is not None else torch.zeros_like(w))
    return {"grasp": ref_sum(arr)}, {"grasp_f64sum": f64_sum(arr)}


def compute_fisher(net, x, y):
    """zero-cost-nas measures/fisher.py: for every Conv2d/Linear output activation a and the loss
    gradient dL/da at it: per output channel k, 0.5 * mean over samples of
    (sum over spatial positions of a * dL/da)^2, absolute value.

    proxies.fisher = what zero-cost-nas/NASLib `find_measures` sums: the channel value broadcast
    to every weight of that channel (reshape_elements), i.e. each channel term times
    C_in/groups * kh * kw (times in_features for Linear); docs/decisions.md, "fisher".
    extras.fisher_per_channel_sum = one term per channel (the wording of docs/proxies.md)."""
    net.train()
    layers = weighted_layers(net)
    fisher = {}
    handles = []

    def make_fwd_hook(layer):
        def fwd_hook(module, inp, out):
            act = out.detach()

            def grad_hook(grad):
                g = grad.detach()
                if act.dim() > 2:
                    g_nk = torch.sum(act * g, list(range(2, act.dim())))
                else:
                    g_nk = act * g
                del_k = g_nk.pow(2).mean(0).mul(0.5)
                fisher[layer] = del_k if layer not in fisher else fisher[layer] + del_k

            out.register_hook(grad_hook)
        return fwd_hook

    for m in layers:
        handles.append(m.register_forward_hook(make_fwd_hook(m)))
    net.zero_grad()
    F.cross_entropy(net(x), y).backward()
    for h in handles:
        h.remove()
    per_channel, broadcast = [], []
    for m in layers:
        v = torch.abs(fisher[m].detach()) if m in fisher else torch.zeros(m.weight.shape[0])
        per_channel.append(v)
        shape = (-1,) + (1,) * (m.weight.dim() - 1)
        broadcast.append(v.reshape(shape).expand_as(m.weight).contiguous())
    return ({"fisher": ref_sum(broadcast)},
            {"fisher_f64sum": f64_sum(broadcast),
             "fisher_per_channel_sum": ref_sum(per_channel)})


# --------------------------------------------------------------------------------------------
# Jacobian / activation family
# --------------------------------------------------------------------------------------------

def _epe_score(jac, labels, n_classes):
    """NASLib zerocost measures/epe_nas.py `eval_score_perclass`, same control flow: classes in
    order of first appearance; a class seen once is a 1-D row whose np.corrcoef is the scalar
    1.0 (NaN if that row is constant); with n_classes > 100 `len()` of that 0-d result raises and
    the class is skipped (the reference's bare except), with n_classes <= 100 it contributes
    log(1 + 1e-5)."""
    k = 1e-5
    per_class = {}
    for i, label in enumerate(labels):
        if label in per_class:
            per_class[label] = np.vstack((per_class[label], jac[i]))
        else:
            per_class[label] = jac[i]
    scores = {}
    skipped = []
    with np.errstate(all="ignore"):
        for c in per_class:
            try:
                corrs = np.array(np.corrcoef(per_class[c]))
                s = np.sum(np.log(abs(corrs) + k))
                if n_classes > 100:
                    s /= len(corrs)
            except Exception:  # reference: `except: continue`
                skipped.append(int(c))
                continue
            scores[c] = s
        score = 0
        if n_classes <= 100:
            for c in scores:
                score += np.absolute(scores[c])
        else:
            for c in scores:
                for cj in scores:
                    score += np.absolute(scores[c] - scores[cj])
            if len(scores) > 0:
                score /= len(scores)
    return float(score), skipped, len(scores)


def compute_epe_nas(net, x, y, n_classes):
    net.train()
    net.zero_grad()
    xi = x.clone().requires_grad_(True)
    out = net(xi)
    out.backward(torch.ones_like(out))
    jac = xi.grad.detach().reshape(xi.size(0), -1).numpy()  # float32 rows, batch order
    labels = y.numpy()
    try:
        s, skipped, used = _epe_score(jac, labels, out.shape[-1])
    except Exception as e:  # reference: print(e); s = np.nan
        print("epe_nas: %s" % e, file=sys.stderr)
        return {"epe_nas": float("nan")}, {}
    return {"epe_nas": s}, {"epe_nas_classes_used": used,
                            "epe_nas_classes_skipped": len(skipped)}


def gaussian_reinit(net):
    """NASLib zen.py `network_weight_gaussian_init`: in net.modules() order, Conv2d/Linear weight
    ~ N(0, 1) (normal_ in place), bias 0; BatchNorm2d gamma 1, beta 0 (running stats untouched)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                if m.weight is None:
                    continue
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)


def compute_zen(net, input_shape, seed, mixup_gamma=1e-2):
    """NASLib zen.py (repeat = 1, mixup_gamma = 1e-2, fp32), train mode, no gradients.
    RNG: torch.manual_seed(seed) once, then in this order: Gaussian re-init of the weights,
    input = randn(B,3,H,W), input2 = randn(B,3,H,W). mixup = input + 0.01 * input2.
    g = features before global average pooling (after the head BN + ReLU).
    score = log(mean_b sum_chw |g(input) - g(mixup)|) + sum over BatchNorm2d of
    log(sqrt(mean(running_var))) with running_var as left by those two train-mode forwards
    (starting from the fresh 1.0, momentum 0.1)."""
    torch.manual_seed(seed)
    gaussian_reinit(net)
    inp = torch.randn(size=list(input_shape), dtype=torch.float32)
    inp2 = torch.randn(size=list(input_shape), dtype=torch.float32)
    net.train()
    with torch.no_grad():
        mix = inp + mixup_gamma * inp2
        out = net.forward_features(inp)
        mix_out = net.forward_features(mix)
        d = torch.mean(torch.sum(torch.abs(out - mix_out), dim=[1, 2, 3]))
        log_bn = 0.0
        log_bn64 = 0.0
        n_bn = 0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                log_bn += torch.log(torch.sqrt(torch.mean(m.running_var)))
                log_bn64 += math.log(math.sqrt(float(torch.mean(m.running_var.double()))))
                n_bn += 1
        score = torch.log(d) + log_bn
    d64 = float(torch.mean(torch.sum(torch.abs(out - mix_out).double(), dim=[1, 2, 3])))
    with np.errstate(all="ignore"):
        score64 = float(np.log(np.float64(d64))) + log_bn64
    return ({"zen": _f(score)},
            {"zen_f64": score64, "zen_log_bn_scaling": _f(log_bn), "zen_mean_abs_diff": _f(d),
             "zen_bn_layers": n_bn})


def meco_points(net):
    """The MeCo hook set used here (and by the C++ side's taps): the output of every Conv2d,
    BatchNorm2d, ReLU and AvgPool2d (cell avg_pool_3x3 edges and the reduction shortcut's 2x2
    pool), of every normal cell (node 3) and of every reduction block (shortcut + branch). The
    head's BN and ReLU are hooked as their BatchNorm2d and ReLU (that ReLU output is the 'head
    BN+ReLU output'; it is not counted twice). Not hooked: none (Zero) and skip (Identity) ops,
    containers (Sequential, ReLUConvBN, ModuleList, the network itself), the global average pool
    and the Linear classifier (their one-position outputs would give an all-NaN -> all-zero
    correlation matrix, i.e. a term of exactly 0, in the reference)."""
    from_types = (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.AvgPool2d)
    pts = []
    for m in net.modules():
        if isinstance(m, from_types) or type(m).__name__ in ("Cell", "ReductionBlock"):
            pts.append(m)
    return pts


def _meco_pass(net, inp):
    """One train-mode forward of `inp`; at every hook point the output of sample 0 (the
    reference's `data_output[0]`), reshaped to C x (H*W). Returns the float64 terms (corrcoef in
    float64, NaN/inf -> 0, smallest eigenvalue by eigvalsh) and the reference-arithmetic terms
    (float32 corrcoef, general eig, min real part)."""
    terms64, terms32 = [], []

    def hook(module, inputs, out):
        fea = out[0].detach()
        fea = fea.reshape(fea.shape[0], -1)
        c64 = torch.corrcoef(fea.double())
        c64[torch.isnan(c64)] = 0
        c64[torch.isinf(c64)] = 0
        terms64.append(float(torch.linalg.eigvalsh(c64)[0]))
        c32 = torch.corrcoef(fea)
        c32[torch.isnan(c32)] = 0
        c32[torch.isinf(c32)] = 0
        terms32.append(torch.min(torch.real(torch.linalg.eig(c32)[0])))

    pts = meco_points(net)
    handles = [m.register_forward_hook(hook) for m in pts]
    net.train()
    with torch.no_grad():
        net(inp)
    for h in handles:
        h.remove()
    return terms64, terms32, len(pts)


def _nansum64(terms):
    s = 0.0
    for t in terms:
        if not math.isnan(t):
            s += t
    return s


def compute_meco(net, x):
    """MeCo (HamsterMimi/MeCo zero-cost-nas/foresight/pruners/measures/meco.py) on the fixed hook
    set above: ONE train-mode forward of the whole minibatch (BatchNorm statistics over the
    batch); at every hook point the output of the first image (sample 0) as C x (H*W); Pearson
    correlation of the C channels over the spatial positions (float64), NaN and inf entries set
    to 0; its smallest eigenvalue (float64, symmetric solver); score = sum over hook points in
    forward completion order (float64), NaN terms dropped as in the reference.
    extras.meco_ref_f32_eig: same points, the reference's arithmetic (float32 torch.corrcoef,
    general torch.linalg.eig, min real part, float32 sum).
    extras.meco_batch1: the first image forwarded ALONE (batch 1, so BatchNorm statistics of that
    image only) -- the reading of 'one data, single forward pass' of the repo's correlation/
    variant, which feeds a single random 1x3x64x64 input instead."""
    base = {k: v.clone() for k, v in net.state_dict().items()}
    t64, t32, npts = _meco_pass(net, x.clone())
    r32 = torch.tensor(t32)
    r32 = r32[torch.logical_not(torch.isnan(r32))]
    net.load_state_dict(base)  # undo the running-statistics update before the batch-1 pass
    b64, _, _ = _meco_pass(net, x[0:1].clone())
    return ({"meco": _nansum64(t64)},
            {"meco_points": npts, "meco_ref_f32_eig": float(torch.sum(r32).item()),
             "meco_batch1": _nansum64(b64)})


def _zico_f64(g_pairs):
    total = 0.0
    layers_used = 0
    for g1, g2 in g_pairs:
        st = torch.stack([g1.reshape(-1), g2.reshape(-1)]).double()
        std = st.std(dim=0, unbiased=False)
        mean_abs = st.abs().mean(dim=0)
        nz = std != 0
        tmpsum = float(torch.sum(mean_abs[nz] / std[nz]))
        if tmpsum != 0:
            total += math.log(tmpsum)
            layers_used += 1
    return total, layers_used


def _zico_ref_numpy(g_pairs):
    """ZiCo `caculate_zico` arithmetic exactly (numpy float32 arrays, float64 running sum)."""
    total = 0
    for g1, g2 in g_pairs:
        arr = np.array([g1.reshape(-1).numpy(), g2.reshape(-1).numpy()])
        std = np.std(arr, axis=0)
        nz = np.nonzero(std)[0]
        mean_abs = np.mean(np.abs(arr), axis=0)
        tmpsum = np.sum(mean_abs[nz] / std[nz])
        if tmpsum != 0:
            total += np.log(tmpsum)
    return float(total)


def compute_zico(net, x, y):
    """ZiCo (SLDGroup/ZiCo ZeroShotProxy/compute_zico.py; NASLib's `getzico` split): the two
    minibatches are the two halves of the batch (samples [0, B/2) and [B/2, B)), each a
    train-mode forward + mean-CE backward; per Conv/Linear weight entry: mean over the 2 batches
    of |g| divided by the population std (ddof 0) over the 2 batches, only where std != 0;
    per layer log of the sum (layers whose sum is 0 skipped); summed over layers.

    proxies.zico: independent gradients of the two halves (grads zeroed in between), float64.
    extras.zico_ref_f32: the same gradients through the reference's numpy float32 arithmetic.
    extras.zico_accumulated: what the reference code computes literally: it never zeroes the
    gradients between the two batches, so its second 'gradient' is g1 + g2 (float32 add)."""
    net.train()
    layers = weighted_layers(net)
    n = x.shape[0]
    halves = [(0, n // 2), (n // 2, n)]
    grads = []
    for st, en in halves:
        net.zero_grad()
        F.cross_entropy(net(x[st:en]), y[st:en]).backward()
        grads.append([m.weight.grad.detach().clone() if m.weight.grad is not None
                      else torch.zeros_like(m.weight) for m in layers])
    pairs = list(zip(grads[0], grads[1]))
    s, used = _zico_f64(pairs)
    acc_pairs = [(a, a + b) for a, b in pairs]
    s_acc, _ = _zico_f64(acc_pairs)
    with np.errstate(all="ignore"):
        s_ref = _zico_ref_numpy(pairs)
    return {"zico": s}, {"zico_ref_f32": s_ref, "zico_accumulated": s_acc,
                         "zico_layers_used": used}


def compute_gradsign(net, x, y):
    """GradSign (cmu-catalyst/GradSign naswot-code/gradsign.py `get_grad_conflict`): for each
    sample i a separate batch-1 train-mode forward, CE loss, backward; g_i = the Conv/Linear
    weight gradients; score = sum over weight entries of |sum_i sign(g_i)| (sign(0) = 0).
    Counted exactly in int64. extras.gradsign_ref_f32 = the reference's float32 np.nansum of the
    same values (inexact above 2^24); extras.gradsign_mean = the zero-cost-nas-code variant
    (np.nanmean, i.e. divided by the number of weight entries)."""
    net.train()
    layers = weighted_layers(net)
    counts = [torch.zeros(m.weight.numel(), dtype=torch.int64) for m in layers]
    for i in range(x.shape[0]):
        net.zero_grad()
        F.cross_entropy(net(x[[i]]), y[[i]]).backward()
        for c, m in zip(counts, layers):
            g = m.weight.grad
            if g is not None:
                c += torch.sign(g.detach().reshape(-1)).to(torch.int64)
    total = int(sum(int(c.abs().sum()) for c in counts))
    p = sum(int(c.numel()) for c in counts)
    flat = np.abs(np.concatenate([c.numpy() for c in counts]).astype(np.float32))
    return {"gradsign": total}, {"gradsign_ref_f32": float(np.nansum(flat)),
                                 "gradsign_mean": total / p}


# --------------------------------------------------------------------------------------------
# NTK family and GradAlign
# --------------------------------------------------------------------------------------------

def ntk_parameters(net):
    """TE-NAS get_ntk_n: parameters whose name contains 'weight' (Conv, Linear, BN gamma)."""
    return [(name, p) for name, p in net.named_parameters() if "weight" in name]


def compute_ntk(net, x, y):
    """TE-NAS lib/procedures/ntk.py `get_ntk_n` (train_mode=True, one batch): ONE batched
    train-mode forward; for each sample i, backward of sum_c f_c(x_i) with retain_graph;
    g_i = concatenation (named_parameters order) of the gradients of every parameter whose name
    contains 'weight' and whose grad is not None; grads zeroed after each sample.
    Theta = J J^T in float64 (J cast from float32); eigenvalues ascending (torch.linalg.eigvalsh,
    float64)."""
    net.train()
    net.zero_grad()
    params = [p for _, p in ntk_parameters(net)]
    logits = net(x)
    rows = []
    for i in range(x.shape[0]):
        logits[i:i + 1].backward(torch.ones_like(logits[i:i + 1]), retain_graph=True)
        rows.append(torch.cat([p.grad.reshape(-1) for p in params if p.grad is not None]))
        net.zero_grad()
    jac = torch.stack(rows).double()
    del rows
    theta = jac @ jac.t()
    del jac
    eig = torch.linalg.eigvalsh(theta)
    lam_min, lam_max = eig[0], eig[-1]
    yy = y.view(-1)
    lab = (yy[:, None] == yy[None, :]).to(torch.float64) * 2.0 - 1.0  # +1 same label, -1 not
    tc = theta - theta.mean()
    lc = lab - lab.mean()
    lga = torch.sum(tc * lc) / (torch.linalg.norm(tc) * torch.linalg.norm(lc))
    proxies = {
        "ntk_cond": _f(lam_max / lam_min),
        "ntk_trace": _f(torch.trace(theta)),
        "ntk_fro": _f(torch.linalg.norm(theta)),
        "ntk_mean": _f(theta.mean()),
        "ntk_lambda_min": _f(lam_min),
        "lga": _f(lga),
    }
    extras = {"ntk_lambda_max": _f(lam_max), "ntk_num_params": int(sum(p.numel() for p in params)),
              "ntk_num_tensors": len(params)}
    return proxies, extras


def _gradalign_scores(rows, suffix=""):
    """u_i = g_i / ||g_i||; m = mean_i u_i; gradalign = mean_i cos(u_i, m); gradalign_gram =
    log|det G|, G = U U^T (float64, slogdet; sign in extras). rows: list of float32 g_i."""
    g = torch.stack(rows).double()
    del rows
    norms = torch.linalg.norm(g, dim=1)
    u = g / norms[:, None]
    del g
    m = u.mean(dim=0)
    cos = (u @ m) / (torch.linalg.norm(u, dim=1) * torch.linalg.norm(m))
    gram = u @ u.t()
    try:
        sign, logabsdet = torch.linalg.slogdet(gram)
        sign, logabsdet = _f(sign), _f(logabsdet)
        if math.isnan(logabsdet):
            sign = float("nan")
    except Exception as e:
        print("gradalign_gram%s: %s" % (suffix, e), file=sys.stderr)
        sign, logabsdet = float("nan"), float("nan")
    return ({"gradalign" + suffix: _f(cos.mean()), "gradalign_gram" + suffix: logabsdet},
            {"gradalign_gram%s_sign" % suffix: sign,
             "gradalign%s_min_grad_norm" % suffix: _f(norms.min())})


def compute_gradalign(net, x, y):
    """GradAlign (Li & Guo 2024), docs/proxies.md section 4: per-sample LOSS gradients from ONE
    batched train-mode forward: loss_i = CE of sample i's logits (logits[i:i+1], y[i:i+1]),
    gradient per sample with retain_graph, over the Conv/Linear weights only (float32, cast to
    float64); u_i = g_i / ||g_i||; m = mean_i u_i; gradalign = mean_i cos(u_i, m);
    gradalign_gram = log|det G|, G = U U^T (float64, slogdet; sign in extras)."""
    net.train()
    net.zero_grad()
    weights = [m.weight for m in weighted_layers(net)]
    logits = net(x)
    rows = []
    for i in range(x.shape[0]):
        loss_i = F.cross_entropy(logits[i:i + 1], y[i:i + 1])
        gs = torch.autograd.grad(loss_i, weights, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                               for g, w in zip(gs, weights)]))
    return _gradalign_scores(rows)


def compute_gradalign_b1(net, x, y):
    """The batch-1 variant (gradalign_b1, gradalign_gram_b1): as GradSign's reference loop, each
    sample forwarded ALONE in train mode (BatchNorm statistics of that sample), CE, gradient over
    the Conv/Linear weights; then the same scores as compute_gradalign."""
    net.train()
    net.zero_grad()
    weights = [m.weight for m in weighted_layers(net)]
    rows = []
    for i in range(x.shape[0]):
        loss_i = F.cross_entropy(net(x[i:i + 1]), y[i:i + 1])
        gs = torch.autograd.grad(loss_i, weights, allow_unused=True)
        rows.append(torch.cat([(g if g is not None else torch.zeros_like(w)).reshape(-1)
                               for g, w in zip(gs, weights)]))
    return _gradalign_scores(rows, "_b1")


# --------------------------------------------------------------------------------------------
# NNGP Monte-Carlo (docs/proxies.md section 5)
# --------------------------------------------------------------------------------------------

_MASK64 = (1 << 64) - 1


def splitmix64_sample(n, k, seed):
    """k distinct values of range(n) in draw order: a partial Fisher-Yates shuffle driven by
    splitmix64 with unbiased rejection sampling, the suite's documented platform-independent
    sampler (foundation/rng.h), so that both sides draw the same NNGP split."""
    state = seed & _MASK64

    def next64():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & _MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
        return z ^ (z >> 31)

    def below(m):
        limit = _MASK64 - (_MASK64 % m)
        while True:
            r = next64()
            if r < limit:
                return r % m

    pool = list(range(n))
    for i in range(k):
        j = i + below(n - i)
        pool[i], pool[j] = pool[j], pool[i]
    return pool[:k]


def _pooled_features(net, images, chunk=250):
    """phi(x): the globally pooled features that feed the final Linear layer, float64, computed
    in chunks of 250 images (the C++ chunking, so that each conv sees the same batch shapes)."""
    parts = []
    for start in range(0, images.shape[0], chunk):
        f = net.forward_features(images[start:start + chunk])
        parts.append(net.global_pooling(f).flatten(1).double())
    return torch.cat(parts)


def compute_nngp(make_net, load_images, n_images, n_train, n_val, members, seed, classes):
    """nngp_acc, nngp_best_eps, nngp_val_loss. make_net() builds a new network from torch's
    generator as it stands (the caller seeds it once, before the first member); load_images(idx)
    returns the normalised images and labels of those training-set indices."""
    order = splitmix64_sample(n_images, n_train + n_val, seed ^ 0x6E6E67702D73706C)
    train_idx, val_idx = order[:n_train], order[-n_val:]
    bn_pick = splitmix64_sample(n_train, min(100, n_train), seed ^ 0x6E6E67702D626E00)
    x_t, y_t = load_images(train_idx)
    x_v, y_v = load_images(val_idx)
    x_bn, _ = load_images([train_idx[i] for i in bn_pick])

    k_tt = torch.zeros(n_train, n_train, dtype=torch.float64)
    k_vt = torch.zeros(n_val, n_train, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(members):
            net = make_net()
            # BatchNorm statistics = those of one train-mode batch: a cumulative average over a
            # single batch after a reset is exactly that batch's mean and unbiased variance.
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.reset_running_stats()
                    m.momentum = None
            net.train()
            net(x_bn)
            net.eval()
            phi_t = _pooled_features(net, x_t)
            phi_v = _pooled_features(net, x_v)
            k_tt += phi_t @ phi_t.T / members
            k_vt += phi_v @ phi_t.T / members

    targets = F.one_hot(y_t, classes).double() - 0.1
    val_targets = F.one_hot(y_v, classes).double() - 0.1
    scale = float(torch.trace(k_tt)) / n_train
    eye = torch.eye(n_train, dtype=torch.float64)
    best_acc, best_eps, best_loss = -1.0, float("nan"), float("nan")
    for eps in np.logspace(-7, 2, 20):
        factor, info = torch.linalg.cholesky_ex(k_tt + float(eps) * scale * eye)
        if int(info) != 0:
            continue
        prediction = k_vt @ torch.cholesky_solve(targets, factor)
        acc = float((prediction.argmax(1) == y_v).double().mean())
        if acc > best_acc:  # the smallest eps reaching the best accuracy
            best_acc, best_eps = acc, float(eps)
            best_loss = float(((prediction - val_targets) ** 2).mean())
    if best_acc < 0:  # every factorisation failed: no value (a failed row on the C++ side)
        nan = float("nan")
        return {"nngp_acc": nan, "nngp_best_eps": nan, "nngp_val_loss": nan}, {}
    return {"nngp_acc": best_acc, "nngp_best_eps": best_eps, "nngp_val_loss": best_loss}, {}
