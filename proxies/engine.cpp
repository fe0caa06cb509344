#include "proxies/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "foundation/errors.h"
#include "proxies/proxy_functions.h"

namespace nbz {
namespace {

using ProxyFn = double (*)(const PassArtifacts&);

ProxyFn proxy_function(const std::string& name) {
  static const std::map<std::string, ProxyFn> table = {
      {"params", proxy_params},
      {"flops", proxy_flops},
      {"l2_norm", proxy_l2_norm},
      {"grad_norm", proxy_grad_norm},
      {"snip", proxy_snip},
      {"plain", proxy_plain},
      {"grasp", proxy_grasp},
      {"fisher", proxy_fisher},
      {"synflow", proxy_synflow},
      {"synflow_log", proxy_synflow_log},
      {"naswot", proxy_naswot},
      {"jacob_cov", proxy_jacob_cov},
      {"epe_nas", proxy_epe_nas},
      {"zen", proxy_zen},
      {"linear_regions", proxy_linear_regions},
      {"meco", proxy_meco},
      {"zico", proxy_zico},
      {"gradsign", proxy_gradsign},
      {"ntk_cond", proxy_ntk_cond},
      {"ntk_trace", proxy_ntk_trace},
      {"ntk_fro", proxy_ntk_fro},
      {"ntk_mean", proxy_ntk_mean},
      {"ntk_lambda_min", proxy_ntk_lambda_min},
      {"lga", proxy_lga},
      {"gradalign", proxy_gradalign},
      {"gradalign_gram", proxy_gradalign_gram},
      {"gradalign_b1", proxy_gradalign_b1},
      {"gradalign_gram_b1", proxy_gradalign_gram_b1},
      {"nngp_acc", [](const PassArtifacts& a) { return a.nngp.accuracy; }},
      {"nngp_best_eps", [](const PassArtifacts& a) { return a.nngp.best_eps; }},
      {"nngp_val_loss", [](const PassArtifacts& a) { return a.nngp.val_loss; }},
  };
  auto it = table.find(name);
  NBZ_ASSERT(it != table.end(), "catalog proxy without implementation: " + name);
  return it->second;
}

std::vector<Pass> prerequisites(Pass pass) {
  switch (pass) {
    case Pass::Build:
    case Pass::Zen:
    case Pass::LinearRegions:
    case Pass::Nngp:
      return {};
    case Pass::LossGrad:
    case Pass::InputJacobian:
    case Pass::NtkJacobian:
    case Pass::SampleLossGrads:
      return {Pass::Build, Pass::TrainForward};
    case Pass::GraspHessian:
      return {Pass::Build, Pass::TrainForward, Pass::LossGrad};
    default:
      return {Pass::Build};
  }
}

bool uses(const ProxyInfo* p, Pass pass) {
  return std::find(p->passes.begin(), p->passes.end(), pass) != p->passes.end();
}

// Forwards every tap call to the taps the requested proxies need, timing each so that its cost is
// charged to its proxy rather than to the shared forward.
class TimedTaps : public ForwardTaps {
 public:
  void add(ForwardTaps* taps, const std::string& proxy) { entries_.push_back({taps, proxy, 0}); }
  void relu_input(const torch::Tensor& x) override {
    each([&](ForwardTaps* t) { t->relu_input(x); });
  }
  void weighted_output(const torch::Tensor& w, const torch::Tensor& out) override {
    each([&](ForwardTaps* t) { t->weighted_output(w, out); });
  }
  void conv2d_io(const torch::nn::Conv2dImpl& conv, const torch::Tensor& in,
                 const torch::Tensor& out) override {
    each([&](ForwardTaps* t) { t->conv2d_io(conv, in, out); });
  }
  void linear_io(const torch::nn::LinearImpl& linear, const torch::Tensor& in,
                 const torch::Tensor& out) override {
    each([&](ForwardTaps* t) { t->linear_io(linear, in, out); });
  }
  void module_output(const torch::Tensor& out) override {
    each([&](ForwardTaps* t) { t->module_output(out); });
  }
  bool empty() const { return entries_.empty(); }
  double total_seconds() const {
    double s = 0;
    for (const auto& e : entries_) s += e.seconds;
    return s;
  }
  double seconds_of(const std::string& proxy) const {
    double s = 0;
    for (const auto& e : entries_)
      if (e.proxy == proxy) s += e.seconds;
    return s;
  }

 private:
  struct Entry {
    ForwardTaps* taps;
    std::string proxy;
    double seconds;
  };
  template <typename F>
  void each(F&& f) {
    for (auto& e : entries_) {
      Stopwatch watch;
      f(e.taps);
      e.seconds += watch.seconds();
    }
  }
  std::vector<Entry> entries_;
};

}  // namespace

std::string failure_reason(const std::exception& e) {
  // c10::Error messages carry a C++ backtrace after the first line; the first line is the reason.
  std::string what = e.what();
  const auto nl = what.find('\n');
  return nl == std::string::npos ? what : what.substr(0, nl);
}

void wait_for_device(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

ArchScores score_architecture(const EngineInput& input,
                              const std::vector<const ProxyInfo*>& proxies) {
  ArchScores result;
  std::set<Pass> needed;
  std::set<std::string> requested;
  for (const auto* p : proxies) {
    needed.insert(p->passes.begin(), p->passes.end());
    requested.insert(p->name);
  }
  auto wants = [&](const char* name) { return requested.count(name) != 0; };

  PassArtifacts art;
  std::map<Pass, std::string> failed;  // pass -> reason

  auto run_pass = [&](Pass pass, auto&& body) {
    if (!needed.count(pass)) return;
    PassOutcome outcome;
    outcome.pass = pass;
    outcome.name = pass_name(pass);
    for (const auto* p : proxies)
      if (uses(p, pass)) outcome.users.push_back(p->name);
    // A pass whose prerequisite failed does not run; its users fail with the first cause.
    for (Pass prior : prerequisites(pass)) {
      auto it = failed.find(prior);
      if (it != failed.end() && outcome.ok) {
        outcome.ok = false;
        outcome.failure = it->second;
      }
    }
    if (outcome.ok) {
      Stopwatch watch;
      try {
        body();
        wait_for_device(input.device);
      } catch (const std::exception& e) {
        outcome.ok = false;
        outcome.failure = std::string("pass ") + pass_name(pass) + " failed: " + failure_reason(e);
      }
      outcome.seconds = watch.seconds();
    }
    if (!outcome.ok) failed.emplace(pass, outcome.failure);
    result.passes.push_back(std::move(outcome));
  };
  auto input_shape_of_one = [&] {
    auto shape = input.images.sizes().vec();
    shape[0] = 1;
    return shape;
  };

  run_pass(Pass::Build, [&] {
    torch::manual_seed(input.seed);
    art.net = input.make_network();
    art.net->to(input.device, input.dtype);
    art.weights = art.net->weighted_layer_weights();
    art.images = input.images.to(input.device, input.dtype);
    art.labels = input.labels.to(input.device);
  });

  run_pass(Pass::Batch1Forward, [&] {
    torch::NoGradGuard no_grad;
    MacCountingTaps taps;
    ForwardContext ctx;
    ctx.taps = &taps;
    art.net->eval();  // eval: counting MACs must not touch BatchNorm running statistics
    art.net->forward(torch::zeros(input_shape_of_one(), art.images.options()), ctx);
    art.macs = taps.macs;
  });

  // The batched train-mode forward whose graph LossGrad, GraspHessian, InputJacobian, NtkJacobian
  // and SampleLossGrads share; released once they have run. Backwards through a retained graph
  // give the same bits as through a fresh forward of their own (tested), so GradAlign's
  // per-sample loss backwards reuse the NTK's forward rather than repeating it.
  torch::Tensor logits, images, loss;
  ReluCodeTaps naswot_taps;
  MecoTaps meco_taps;
  WeightedOutputTaps fisher_taps;
  TimedTaps taps;
  if (wants("naswot")) taps.add(&naswot_taps, "naswot");
  if (wants("meco")) taps.add(&meco_taps, "meco");
  if (wants("fisher")) taps.add(&fisher_taps, "fisher");

  run_pass(Pass::TrainForward, [&] {
    art.net->train();
    images = art.images.detach().clone();
    if (needed.count(Pass::InputJacobian)) images.requires_grad_(true);
    ForwardContext ctx;
    if (!taps.empty()) ctx.taps = &taps;
    logits = art.net->forward(images, ctx);
    art.num_classes = static_cast<int>(logits.size(1));
    art.naswot_kernel = naswot_taps.kernel;
    art.meco = meco_taps.sum;
  });

  const bool graph_after_loss = needed.count(Pass::InputJacobian) || needed.count(Pass::NtkJacobian) ||
                                needed.count(Pass::GraspHessian) ||
                                needed.count(Pass::SampleLossGrads);
  // With GraSP asked for, the loss gradient is taken once, with create_graph, and serves both
  // the first-order proxies (detached) and GraSP's Hessian pass: the gradients are the same bits
  // as without a graph (tested: every proxy alone or in any set), and GraSP saves a backward.
  const bool grasp_wanted = needed.count(Pass::GraspHessian) > 0;
  std::vector<torch::Tensor> grads_with_graph;
  run_pass(Pass::LossGrad, [&] {
    loss = torch::nn::functional::cross_entropy(logits, art.labels);
    std::vector<torch::Tensor> inputs = art.weights;
    inputs.insert(inputs.end(), fisher_taps.outputs.begin(), fisher_taps.outputs.end());
    auto grads = torch::autograd::grad({loss}, inputs, {}, /*retain_graph=*/graph_after_loss,
                                       /*create_graph=*/grasp_wanted, /*allow_unused=*/true);
    for (size_t i = 0; i < grads.size(); ++i)
      if (!grads[i].defined()) grads[i] = torch::zeros_like(inputs[i]);
    const size_t nw = art.weights.size();
    for (size_t i = 0; i < nw; ++i) art.loss_grads.push_back(grads[i].detach());
    for (size_t i = nw; i < grads.size(); ++i) art.fisher_grads.push_back(grads[i].detach());
    if (grasp_wanted) grads_with_graph.assign(grads.begin(), grads.begin() + static_cast<long>(nw));
    art.fisher_activations = fisher_taps.outputs;
    art.fisher_fan_ins = fisher_taps.fan_ins;
  });

  run_pass(Pass::GraspHessian, [&] {
    art.grasp_hg = grasp_hessian_gradient(grads_with_graph, art.weights);
    grads_with_graph.clear();
  });

  run_pass(Pass::InputJacobian, [&] {
    auto grads = torch::autograd::grad({logits.sum()}, {images}, {}, /*retain_graph=*/true);
    art.input_jacobian = grads[0].flatten(1);
  });

  run_pass(Pass::NtkJacobian, [&] {
    art.ntk = ntk_from_logits(logits, art.net->named_weight_parameters());
  });

  run_pass(Pass::SampleLossGrads, [&] {
    art.sample_loss_gram = gram_float64(sample_loss_gradients(logits, art.labels, art.weights));
  });
  logits = images = loss = torch::Tensor();
  for (auto& a : art.fisher_activations) a = a.detach();

  run_pass(Pass::Synflow, [&] {
    art.synflow_sum = synflow_pass(*art.net, input.make_network, input_shape_of_one());
  });
  run_pass(Pass::HalfBatchGrads, [&] {
    art.half_batch_grads = half_batch_gradients(*art.net, art.images, art.labels);
  });
  run_pass(Pass::Batch1LossGrads, [&] {
    // The fast path: its match with the reference loop, gradients and GradSign's signs, is tested
    // (tests/gradalign_test.cpp). GradAlign's _b1 variants and GradSign share its rows.
    const auto rows = batch1_loss_gradients_fast(*art.net, art.images, art.labels);
    if (wants("gradalign_b1") || wants("gradalign_gram_b1")) art.batch1_loss_gram = gram_float64(rows);
    if (wants("gradsign")) art.gradsign = gradsign_from_rows(rows);
  });
  run_pass(Pass::Zen, [&] {
    // Zen builds its own network: it needs neither the Build pass nor its tensors.
    art.zen = zen_pass(input.make_network, input.images.sizes().vec(), input.seed, input.options());
  });
  run_pass(Pass::LinearRegions, [&] {
    if (!input.make_thin_network)
      throw std::runtime_error("no thin network is defined for this search space");
    if (!input.linear_region_inputs.defined())
      throw std::runtime_error("no linear-region input crops were prepared");
    art.linear_regions = linear_region_pass(
        input.make_thin_network, input.linear_region_inputs.to(input.device, input.dtype), input.seed);
  });

  run_pass(Pass::Nngp, [&] {
    if (!input.nngp_data) throw std::runtime_error("no NNGP data split was prepared");
    const auto kernels = nngp_kernels(input.make_network, *input.nngp_data, input.nngp.members,
                                      input.seed, input.options());
    art.nngp = nngp_solve(kernels, input.nngp_data->train_labels, input.nngp_data->val_labels,
                          input.nngp_data->num_classes, input.nngp.eps_grid);
  });

  // Charge tap time to the tapping proxies rather than to the shared forward.
  for (auto& pass : result.passes)
    if (pass.pass == Pass::TrainForward) pass.seconds = std::max(0.0, pass.seconds - taps.total_seconds());

  std::map<Pass, const PassOutcome*> by_pass;
  for (const auto& pass : result.passes) by_pass[pass.pass] = &pass;

  for (const auto* p : proxies) {
    ProxyOutcome out;
    out.proxy = p;
    for (Pass pass : p->passes) {
      const PassOutcome* po = by_pass.at(pass);
      out.shared_seconds += po->seconds / static_cast<double>(po->users.size());
      if (!po->ok && out.failure.empty()) out.failure = po->failure;
    }
    if (out.failure.empty()) {
      Stopwatch watch;
      try {
        out.value = proxy_function(p->name)(art);
        wait_for_device(input.device);
        if (std::isfinite(out.value)) {
          out.ok = true;
        } else {
          out.failure = "non-finite value: " + std::string(std::isnan(out.value) ? "nan"
                                                            : out.value > 0 ? "inf" : "-inf");
        }
      } catch (const std::exception& e) {
        out.failure = "proxy failed: " + failure_reason(e);
      }
      out.own_seconds = watch.seconds() + taps.seconds_of(p->name);
    }
    result.proxies.push_back(std::move(out));
  }
  return result;
}

}  // namespace nbz
