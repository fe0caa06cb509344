// Every proxy the suite knows: name, sign, family, the passes it needs and what it declares it
// needs (data, labels, gradients). Torch-free, so the CLI, the database and the reports can list
// and validate proxies without LibTorch. The computations live in proxies/*_proxies.cpp and are
// bound to these names in proxies/engine.cpp.
#pragma once

#include <string>
#include <vector>

namespace nbz {

// Work the engine runs at most once per architecture, shared by every proxy that lists it.
enum class Pass {
  Build,          // construct the network with the run's seed (always)
  Batch1Forward,  // one forward of a single input, counting multiply-accumulates
  TrainForward,   // batched train-mode forward on the minibatch, with the taps proxies asked for
  LossGrad,       // dL/dW for the Conv/Linear weights, L = mean cross-entropy (and dL/d outputs)
  GraspHessian,   // H g by a second backward through the loss gradient
  InputJacobian,  // d(sum of logits)/dx for every sample
  NtkJacobian,    // per-sample backward of the summed logits; Theta = J J^T (float64)
  SampleLossGrads,  // per-sample backward of each sample's CE loss; K = G G^T (float64)
  Synflow,        // own float64 copy, |weights|, BatchNorm removed, all-ones input, backward
  Zen,            // own copy, Gaussian weights, two forwards of random inputs
  HalfBatchGrads, // loss gradients of the two halves of the batch, each its own forward
  Batch1LossGrads,  // per-sample loss gradients of batch-1 train-mode forwards (the fast path):
                    // K = G G^T (float64), and GradSign's sum over weights of |sum_i sign(g_i)|
  LinearRegions,  // TE-NAS's thin network on 3000 random 1x3x3 inputs
  Nngp,           // M fresh networks: pooled features -> NNGP kernels -> GP solve per eps
  Training,       // epochs of ordinary training before a _trained_<k> proxy (never run by the
                  // engine itself: proxies/ntk_evolution.h drives it)
};
const char* pass_name(Pass pass);

struct ProxyInfo {
  std::string name;
  int sign = 1;          // +1 higher is better; -1 lower is better (rank_value = sign * value)
  std::string family;    // architecture | gradient | jacobian-activation | ntk | nngp
  bool auxiliary = false;  // stored, but not a ranking of its own in reports
  std::vector<Pass> passes;
  bool needs_data = false, needs_labels = false, needs_gradients = false;
  std::string parameters;  // what fixes its value beyond the run (recorded in the proxies table)
  std::string description;
  // The NTK time evolution (proxies.md section 4): `<base_name>_trained_<k>` is base_name computed
  // after train_epochs = k epochs of ordinary training (proxies/ntk_evolution.h). 0 and empty for
  // every proxy computed at initialisation.
  int train_epochs = 0;
  std::string base_name{};  // braces: catalog rows may omit it without -Wmissing-field-initializers
};

const std::vector<ProxyInfo>& proxy_catalog();
// Throws nbz::Error listing the valid names when `name` is unknown.
const ProxyInfo& find_proxy(const std::string& name);
// A comma-separated list of proxy names and groups: "all", "zc" (the classic zero-cost set,
// proxies.md sections 1-3), "ntk" (section 4), "nngp" (section 5); order kept, duplicates
// rejected, errors name the bad entry.
std::vector<const ProxyInfo*> resolve_proxy_list(const std::string& list);

// The proxies that can be recomputed after training: the NTK metrics and lga, plus the training
// loss and accuracy of the epoch (`train_loss`, `train_acc`, auxiliary).
const std::vector<std::string>& trainable_proxy_bases();
// Largest k accepted in `<base>_trained_<k>` (NAS-Bench-201's whole schedule).
constexpr int kMaxTrainEpochs = 200;
// `<base>_trained_<k>` for a base of trainable_proxy_bases() and 1 <= k <= kMaxTrainEpochs; the
// same object for the same name (find_proxy also resolves these names). Throws nbz::Error
// otherwise.
const ProxyInfo& trained_proxy(const std::string& base, int epochs);

// --train-epochs LIST: the requested proxies with every trainable one (and the training loss and
// accuracy) also computed after each k > 0 of LIST, as `<name>_trained_<k>`; a LIST without 0
// drops the trainable proxies at initialisation. "0" (the default) returns `proxies` unchanged.
// Errors name the bad entry of LIST.
std::vector<const ProxyInfo*> expand_train_epochs(const std::vector<const ProxyInfo*>& proxies,
                                                  const std::string& list);

}  // namespace nbz
