#include "proxies/catalog.h"

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <set>

#include "foundation/errors.h"

namespace nbz {

const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::Build: return "build";
    case Pass::Batch1Forward: return "batch1_forward";
    case Pass::TrainForward: return "train_forward";
    case Pass::LossGrad: return "loss_grad";
    case Pass::GraspHessian: return "grasp_hessian";
    case Pass::InputJacobian: return "input_jacobian";
    case Pass::NtkJacobian: return "ntk_jacobian";
    case Pass::SampleLossGrads: return "sample_loss_grads";
    case Pass::Synflow: return "synflow_pass";
    case Pass::Zen: return "zen_pass";
    case Pass::HalfBatchGrads: return "half_batch_grads";
    case Pass::Batch1LossGrads: return "batch1_loss_grads";
    case Pass::LinearRegions: return "linear_regions_pass";
    case Pass::Nngp: return "nngp_pass";
    case Pass::Training: return "training";
  }
  return "?";
}

const std::vector<ProxyInfo>& proxy_catalog() {
  static const std::vector<ProxyInfo> catalog = [] {
    std::vector<ProxyInfo> c;
    auto add = [&](ProxyInfo p) { c.push_back(std::move(p)); };
    add({"params", 1, "architecture", false, {Pass::Build}, false, false, false, "",
         "trainable parameters of the exact benchmark network (Conv, Linear, BN affine)"});
    add({"flops", 1, "architecture", false, {Pass::Build, Pass::Batch1Forward}, false, false,
         false, "unit=MFLOPs(MACs/1e6);batch=1;layers=Conv2d,Linear;bias_adds=no",
         "multiply-accumulates of one forward at batch 1 over Conv2d and Linear weights, in millions"});
    add({"l2_norm", 1, "architecture", false, {Pass::Build}, false, false, false, "",
         "sum over Conv/Linear weights of each tensor's L2 norm at initialisation"});
    add({"grad_norm", 1, "gradient", false, {Pass::Build, Pass::TrainForward, Pass::LossGrad},
         true, true, true, "loss=mean_ce;bn=train",
         "sum over Conv/Linear weights of the L2 norm of dL/dW"});
    add({"snip", 1, "gradient", false, {Pass::Build, Pass::TrainForward, Pass::LossGrad}, true,
         true, true, "loss=mean_ce;bn=train", "sum over Conv/Linear weights of |W * dL/dW|"});
    add({"synflow", 1, "gradient", false, {Pass::Build, Pass::Synflow}, false, false, true,
         "dtype=float64;bn=removed;input=ones[1,C,H,W]",
         "sum of |W * dR/dW| over Conv/Linear weights, R = sum of logits of the |weights| network"});
    add({"synflow_log", 1, "gradient", true, {Pass::Build, Pass::Synflow}, false, false, true,
         "dtype=float64;bn=removed;input=ones[1,C,H,W]",
         "natural log of synflow's sum (raw values reach 1e60)"});
    add({"naswot", 1, "jacobian-activation", false, {Pass::Build, Pass::TrainForward}, true, false,
         false, "codes=relu_input>0;bn=train",
         "log|det K|, K = sum over ReLUs of c c^T + (1-c)(1-c)^T of binary codes"});
    add({"jacob_cov", 1, "jacobian-activation", false,
         {Pass::Build, Pass::TrainForward, Pass::InputJacobian}, true, false, true,
         "k=1e-5;bn=train",
         "-sum(log(v+k) + 1/(v+k)) over eigenvalues v of the correlation of input Jacobians"});
    add({"plain", 1, "gradient", false, {Pass::Build, Pass::TrainForward, Pass::LossGrad}, true,
         true, true, "loss=mean_ce;bn=train", "sum over Conv/Linear weights of W * dL/dW (signed)"});
    add({"grasp", 1, "gradient", false,
         {Pass::Build, Pass::TrainForward, Pass::LossGrad, Pass::GraspHessian}, true, true, true,
         "loss=mean_ce;T=1;iterations=1;bn=train",
         "sum over Conv/Linear weights of -W * (H g), H g by a second backward (zero-cost-nas sign)"});
    add({"fisher", 1, "gradient", false, {Pass::Build, Pass::TrainForward, Pass::LossGrad}, true,
         true, true, "loss=mean_ce;bn=train;per=weight(channel value x fan-in, zero-cost-nas)",
         "sum over Conv/Linear output channels of fan-in * 0.5 * mean_n (sum_hw a * dL/da)^2"});
    add({"epe_nas", 1, "jacobian-activation", false,
         {Pass::Build, Pass::TrainForward, Pass::InputJacobian}, true, true, true,
         "k=1e-5;classes<=100:sum|s_c|;else:mean pairwise|s_c-s_c'|",
         "per-class sum of log(|corrcoef of input Jacobians| + k), combined over classes"});
    add({"zen", 1, "jacobian-activation", false, {Pass::Zen}, false, false, false,
         "init=N(0,1) Conv/Linear, BN gamma 1 beta 0;mixup=0.01;repeat=1;bn=train",
         "log E|g(x) - g(x + 0.01 e)| + sum over BN of log sqrt(mean running_var), own copy"});
    add({"linear_regions", 1, "jacobian-activation", false, {Pass::LinearRegions}, true, false,
         false, "net=one cell C=1 no stem no reduction;inputs=3x1000 seeded 3x3 crops of a random "
                "channel of training images;bn=train",
         "distinct ReLU sign patterns of TE-NAS's thin network over 3000 image crops"});
    add({"meco", 1, "jacobian-activation", false, {Pass::Build, Pass::TrainForward}, true, false,
         false, "sample=first image;modules=conv,bn,relu,pool,cell,reduction;bn=train",
         "sum over module outputs of the smallest eigenvalue of the channel correlation matrix"});
    add({"zico", 1, "jacobian-activation", false, {Pass::Build, Pass::HalfBatchGrads}, true, true,
         true, "batches=2 halves of the minibatch;std=population;bn=train",
         "sum over Conv/Linear layers of log sum (mean|g| / std g) over the two half-batches"});
    add({"gradsign", 1, "jacobian-activation", false, {Pass::Build, Pass::Batch1LossGrads}, true,
         true, true, "per_sample=batch-1 semantics by the fast path (per-sample BatchNorm, one "
                     "batched forward and backward);bn=train",
         "sum over Conv/Linear weights of |sum_i sign(dL(x_i)/dW)|"});
    const std::vector<Pass> ntk = {Pass::Build, Pass::TrainForward, Pass::NtkJacobian};
    const std::string ntk_params = "params=name contains weight;bn=train;dtype=float64";
    add({"ntk_cond", -1, "ntk", false, ntk, true, false, true, ntk_params,
         "lambda_max / lambda_min of Theta (TE-NAS condition number; lower is better)"});
    add({"ntk_trace", 1, "ntk", false, ntk, true, false, true, ntk_params, "trace of Theta"});
    add({"ntk_fro", 1, "ntk", false, ntk, true, false, true, ntk_params,
         "Frobenius norm of Theta"});
    add({"ntk_mean", 1, "ntk", false, ntk, true, false, true, ntk_params,
         "mean of all entries of Theta (KNAS gradient kernel mean)"});
    add({"ntk_lambda_min", 1, "ntk", false, ntk, true, false, true, ntk_params,
         "smallest eigenvalue of Theta (Zhu et al. 2022)"});
    add({"lga", 1, "ntk", false, ntk, true, true, true, ntk_params + ";L=+1 same label,-1 else",
         "Label-Gradient Alignment: centred cosine of Theta and the label kernel (Mok et al. 2022)"});
    // GradAlign (Li & Guo 2024): per-sample loss gradients, by default through the NTK's batched
    // train-mode forward (BatchNorm statistics of the whole batch); the _b1 variants forward each
    // sample alone, as GradSign's reference does (docs/decisions.md, "GradAlign").
    const std::vector<Pass> gradalign = {Pass::Build, Pass::TrainForward, Pass::SampleLossGrads};
    const std::vector<Pass> gradalign_b1 = {Pass::Build, Pass::Batch1LossGrads};
    const std::string gradalign_params =
        "params=Conv/Linear weights;loss=ce of each sample;per_sample=batched train-mode forward, "
        "one backward per sample;bn=train;dtype=float64";
    const std::string gradalign_b1_params =
        "params=Conv/Linear weights;loss=ce of each sample;per_sample=batch-1 train-mode forward "
        "of each sample;method=fast path (per-sample BatchNorm, one batched forward, one "
        "backward, per-sample weight gradients from layer inputs and output gradients);bn=train;"
        "dtype=float64";
    const std::string gram = ";gram=log det G by eigvalsh, singular if lambda_min <= B*eps*lambda_max";
    add({"gradalign", 1, "ntk", false, gradalign, true, true, true, gradalign_params,
         "mean over samples of cos(u_i, mean u), u_i = normalised per-sample loss gradient"});
    add({"gradalign_gram", 1, "ntk", false, gradalign, true, true, true, gradalign_params + gram,
         "log det of the Gram matrix of the normalised per-sample loss gradients"});
    add({"gradalign_b1", 1, "ntk", false, gradalign_b1, true, true, true, gradalign_b1_params,
         "gradalign with each sample forwarded alone (batch-1 BatchNorm statistics)"});
    add({"gradalign_gram_b1", 1, "ntk", false, gradalign_b1, true, true, true,
         gradalign_b1_params + gram,
         "gradalign_gram with each sample forwarded alone (batch-1 BatchNorm statistics)"});
    const std::string nngp_params =
        "n_train,n_val,M,images from the run;bn=one train-mode batch of 100 (cumulative stats);"
        "features=eval-mode global pool;eps=logspace(-7,2,20) * tr(K)/n;targets=onehot-0.1";
    add({"nngp_acc", 1, "nngp", false, {Pass::Nngp}, true, true, false, nngp_params,
         "validation accuracy of the Monte-Carlo NNGP, best over the eps grid"});
    add({"nngp_best_eps", 1, "nngp", true, {Pass::Nngp}, true, true, false, nngp_params,
         "the smallest eps reaching nngp_acc"});
    add({"nngp_val_loss", -1, "nngp", true, {Pass::Nngp}, true, true, false, nngp_params,
         "mean squared error of the GP mean against one-hot - 0.1 targets at the best eps"});
    return c;
  }();
  return catalog;
}

namespace {

// "<base>_trained_<k>" -> (base, k); false when `name` does not have that form.
bool split_trained_name(const std::string& name, std::string* base, int* epochs) {
  const std::string tag = "_trained_";
  const auto at = name.rfind(tag);
  if (at == std::string::npos || at == 0) return false;
  const std::string digits = name.substr(at + tag.size());
  if (digits.empty() || digits.size() > 4 ||
      digits.find_first_not_of("0123456789") != std::string::npos || digits[0] == '0')
    return false;
  *base = name.substr(0, at);
  *epochs = std::atoi(digits.c_str());
  return true;
}

std::string known_names() {
  std::string known;
  for (const auto& p : proxy_catalog()) known += (known.empty() ? "" : ", ") + p.name;
  return known;
}

}  // namespace

const std::vector<std::string>& trainable_proxy_bases() {
  static const std::vector<std::string> bases = {"ntk_cond", "ntk_trace",      "ntk_fro",
                                                 "ntk_mean", "ntk_lambda_min", "lga",
                                                 "train_loss", "train_acc"};
  return bases;
}

const ProxyInfo& trained_proxy(const std::string& base, int epochs) {
  const auto& bases = trainable_proxy_bases();
  if (std::find(bases.begin(), bases.end(), base) == bases.end()) {
    std::string list;
    for (const auto& b : bases) list += (list.empty() ? "" : ", ") + b;
    throw Error("proxy '" + base + "' cannot be computed after training (trainable: " + list + ")");
  }
  if (epochs < 1 || epochs > kMaxTrainEpochs)
    throw Error("training epochs " + std::to_string(epochs) + " for '" + base +
                "' out of range 1.." + std::to_string(kMaxTrainEpochs));
  // Made on first use and kept for the process: ProxyInfo pointers must stay valid.
  static std::mutex mutex;
  static std::deque<ProxyInfo> made;
  const std::string name = base + "_trained_" + std::to_string(epochs);
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& p : made)
    if (p.name == name) return p;
  ProxyInfo p;
  p.name = name;
  p.base_name = base;
  p.train_epochs = epochs;
  p.family = "ntk";
  p.needs_data = p.needs_labels = p.needs_gradients = true;
  const std::string recipe =
      "train_epochs=" + std::to_string(epochs) +
      ";training=NB201 recipe: SGD nesterov momentum 0.9, lr 0.1 cosine over 200 epochs "
      "(per epoch), wd 5e-4 on all parameters, batch 256, flip + crop pad 4, CE, train-mode BN, "
      "shuffle/augment seeded by the run seed, images = the run's --train-images";
  if (base == "train_loss" || base == "train_acc") {
    p.sign = base == "train_loss" ? -1 : 1;
    p.auxiliary = true;
    p.passes = {Pass::Training};
    p.parameters = recipe;
    p.description = base == "train_loss"
                        ? "mean cross-entropy over the training epoch that ended at k"
                        : "top-1 accuracy (percent) on the augmented batches of epoch k";
  } else {
    const ProxyInfo& b = find_proxy(base);
    p.sign = b.sign;
    p.auxiliary = b.auxiliary;
    p.passes = {Pass::Training};
    p.passes.insert(p.passes.end(), b.passes.begin(), b.passes.end());
    p.parameters = b.parameters + ";" + recipe;
    p.description = b.description + ", after " + std::to_string(epochs) + " epoch(s) of training";
  }
  made.push_back(std::move(p));
  return made.back();
}

const ProxyInfo& find_proxy(const std::string& name) {
  for (const auto& p : proxy_catalog())
    if (p.name == name) return p;
  std::string base;
  int epochs = 0;
  if (split_trained_name(name, &base, &epochs)) return trained_proxy(base, epochs);
  throw Error("unknown proxy '" + name + "' (known: " + known_names() +
              "; <ntk metric or lga>_trained_<k>; groups: all, zc, ntk, nngp)");
}

std::vector<const ProxyInfo*> expand_train_epochs(const std::vector<const ProxyInfo*>& proxies,
                                                  const std::string& list) {
  std::vector<int> epochs;
  std::string item;
  for (size_t pos = 0; pos <= list.size(); ++pos) {
    if (pos < list.size() && list[pos] != ',') {
      item.push_back(list[pos]);
      continue;
    }
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || end != item.c_str() + item.size() || v < 0 || v > kMaxTrainEpochs)
      throw Error("--train-epochs '" + list + "': '" + item + "' is not an epoch count in 0.." +
                  std::to_string(kMaxTrainEpochs));
    if (std::find(epochs.begin(), epochs.end(), static_cast<int>(v)) != epochs.end())
      throw Error("--train-epochs '" + list + "': " + item + " appears twice");
    epochs.push_back(static_cast<int>(v));
    item.clear();
  }
  std::sort(epochs.begin(), epochs.end());
  if (epochs == std::vector<int>{0}) return proxies;
  const bool at_init = epochs.front() == 0;
  const auto& bases = trainable_proxy_bases();
  auto trainable = [&](const ProxyInfo* p) {
    return p->train_epochs == 0 && std::find(bases.begin(), bases.end(), p->name) != bases.end();
  };
  std::vector<const ProxyInfo*> out;
  std::vector<const ProxyInfo*> to_train;
  for (const auto* p : proxies) {
    if (trainable(p)) to_train.push_back(p);
    if (!trainable(p) || at_init) out.push_back(p);
  }
  if (to_train.empty())
    throw Error("--train-epochs '" + list +
                "' needs a trainable proxy among those requested (the ntk group or lga)");
  auto add = [&](const ProxyInfo& p) {
    if (std::find(out.begin(), out.end(), &p) == out.end()) out.push_back(&p);
  };
  for (int k : epochs) {
    if (k == 0) continue;
    for (const auto* p : to_train) add(trained_proxy(p->name, k));
    add(trained_proxy("train_loss", k));
    add(trained_proxy("train_acc", k));
  }
  return out;
}

std::vector<const ProxyInfo*> resolve_proxy_list(const std::string& list) {
  std::vector<const ProxyInfo*> out;
  std::set<std::string> seen;
  auto take = [&](const ProxyInfo* p) {
    if (!seen.insert(p->name).second)
      throw Error("proxy '" + p->name + "' appears twice in '" + list + "'");
    out.push_back(p);
  };
  std::string item;
  for (size_t pos = 0; pos <= list.size(); ++pos) {
    if (pos == list.size() || list[pos] == ',') {
      if (item.empty()) throw Error("empty entry in proxy list '" + list + "'");
      if (item == "all" || item == "zc" || item == "ntk" || item == "nngp") {
        for (const auto& p : proxy_catalog()) {
          const bool classic = p.family != "ntk" && p.family != "nngp";
          if (item == "all" || (item == "zc" ? classic : p.family == item)) take(&p);
        }
      } else {
        take(&find_proxy(item));
      }
      item.clear();
    } else {
      item.push_back(list[pos]);
    }
  }
  return out;
}

}  // namespace nbz
