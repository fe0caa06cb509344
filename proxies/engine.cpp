#include "proxies/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "proxies/proxy_functions.h"
#include "suite/errors.h"

namespace nbz {
namespace {

using ProxyFn = double (*)(const PassArtifacts&);

ProxyFn proxy_function(const std::string& name) {
  static const std::map<std::string, ProxyFn> table = {
      {"params", proxy_params},       {"flops", proxy_flops},
      {"l2_norm", proxy_l2_norm},     {"grad_norm", proxy_grad_norm},
      {"snip", proxy_snip},           {"synflow", proxy_synflow},
      {"synflow_log", proxy_synflow_log}, {"naswot", proxy_naswot},
      {"jacob_cov", proxy_jacob_cov},
  };
  auto it = table.find(name);
  NBZ_ASSERT(it != table.end(), "catalog proxy without implementation: " + name);
  return it->second;
}

std::string describe(const std::exception& e) {
  // c10::Error messages carry a C++ backtrace after the first line; the first line is the reason.
  std::string what = e.what();
  const auto nl = what.find('\n');
  return nl == std::string::npos ? what : what.substr(0, nl);
}

std::vector<Pass> prerequisites(Pass pass) {
  switch (pass) {
    case Pass::Build: return {};
    case Pass::LossGrad:
    case Pass::InputJacobian: return {Pass::Build, Pass::TrainForward};
    default: return {Pass::Build};
  }
}

bool uses(const ProxyInfo* p, Pass pass) {
  return std::find(p->passes.begin(), p->passes.end(), pass) != p->passes.end();
}

}  // namespace

ArchScores score_architecture(const EngineInput& input,
                              const std::vector<const ProxyInfo*>& proxies) {
  ArchScores result;
  std::set<Pass> needed;
  for (const auto* p : proxies) needed.insert(p->passes.begin(), p->passes.end());
  const bool wants_naswot =
      std::any_of(proxies.begin(), proxies.end(), [](const ProxyInfo* p) { return p->name == "naswot"; });

  PassArtifacts art;
  std::map<Pass, std::string> failed;  // pass -> reason
  double naswot_tap_seconds = 0;

  auto run_pass = [&](Pass pass, auto&& body) {
    if (!needed.count(pass)) return;
    PassOutcome outcome;
    outcome.pass = pass;
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
      } catch (const std::exception& e) {
        outcome.ok = false;
        outcome.failure = std::string("pass ") + pass_name(pass) + " failed: " + describe(e);
      }
      outcome.seconds = watch.seconds();
    }
    if (!outcome.ok) failed.emplace(pass, outcome.failure);
    result.passes.push_back(std::move(outcome));
  };

  run_pass(Pass::Build, [&] {
    torch::manual_seed(input.seed);
    art.net = input.make_network();
    art.net->to(input.device);
    art.weights = art.net->weighted_layer_weights();
    art.images = input.images.to(input.device);
    art.labels = input.labels.to(input.device);
  });

  run_pass(Pass::Batch1Forward, [&] {
    torch::NoGradGuard no_grad;
    MacCountingTaps taps;
    ForwardContext ctx;
    ctx.taps = &taps;
    art.net->eval();  // eval: counting MACs must not touch BatchNorm running statistics
    auto shape = art.images.sizes().vec();
    shape[0] = 1;
    art.net->forward(torch::zeros(shape, art.images.options()), ctx);
    art.macs = taps.macs;
  });

  torch::Tensor logits, images;
  run_pass(Pass::TrainForward, [&] {
    art.net->train();
    images = art.images.detach().clone();
    if (needed.count(Pass::InputJacobian)) images.requires_grad_(true);
    ReluCodeTaps naswot_taps(images.size(0));
    ForwardContext ctx;
    if (wants_naswot) ctx.taps = &naswot_taps;
    logits = art.net->forward(images, ctx);
    if (wants_naswot) {
      art.naswot_kernel = naswot_taps.kernel;
      naswot_tap_seconds = naswot_taps.seconds;
    }
  });
  run_pass(Pass::LossGrad, [&] {
    auto loss = torch::nn::functional::cross_entropy(logits, art.labels);
    auto grads = torch::autograd::grad({loss}, art.weights, {},
                                       /*retain_graph=*/needed.count(Pass::InputJacobian) != 0,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < grads.size(); ++i)
      art.loss_grads.push_back(grads[i].defined() ? grads[i] : torch::zeros_like(art.weights[i]));
  });

  run_pass(Pass::InputJacobian, [&] {
    auto grads = torch::autograd::grad({logits.sum()}, {images});
    art.input_jacobian = grads[0].flatten(1);
  });
  logits = torch::Tensor();

  run_pass(Pass::Synflow, [&] {
    auto shape = art.images.sizes().vec();
    shape[0] = 1;
    art.synflow_sum = synflow_pass(*art.net, input.make_network, shape);
  });

  // Charge the naswot tap's time to naswot rather than to the shared forward.
  for (auto& pass : result.passes)
    if (pass.pass == Pass::TrainForward) pass.seconds = std::max(0.0, pass.seconds - naswot_tap_seconds);

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
        if (std::isfinite(out.value)) {
          out.ok = true;
        } else {
          out.failure = "non-finite value: " + std::string(std::isnan(out.value) ? "nan"
                                                            : out.value > 0 ? "inf" : "-inf");
        }
      } catch (const std::exception& e) {
        out.failure = "proxy failed: " + describe(e);
      }
      out.own_seconds = watch.seconds();
      if (p->name == "naswot") out.own_seconds += naswot_tap_seconds;
    }
    result.proxies.push_back(std::move(out));
  }
  return result;
}

}  // namespace nbz
