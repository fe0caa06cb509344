#include "proxies/ntk_evolution.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "foundation/errors.h"
#include "foundation/stopwatch.h"

namespace nbz {
namespace {

bool is_training_metric(const ProxyInfo& p) {
  return p.base_name == "train_loss" || p.base_name == "train_acc";
}

}  // namespace

ArchScores score_after_training(const EngineInput& input, const ImageSet& training_images,
                                const TrainingOptions& options,
                                const std::vector<const ProxyInfo*>& proxies) {
  ArchScores result;
  int last_epoch = 0;
  for (const auto* p : proxies) {
    NBZ_ASSERT(p->train_epochs > 0 && !p->base_name.empty(),
               "not a trained proxy: " + p->name);
    last_epoch = std::max(last_epoch, p->train_epochs);
    ProxyOutcome out;
    out.proxy = p;
    result.proxies.push_back(out);
  }
  if (proxies.empty()) return result;

  auto users_from = [&](int epoch, bool exact) {
    std::vector<size_t> users;
    for (size_t i = 0; i < proxies.size(); ++i)
      if (exact ? proxies[i]->train_epochs == epoch : proxies[i]->train_epochs >= epoch)
        users.push_back(i);
    return users;
  };
  auto names_of = [&](const std::vector<size_t>& users) {
    std::vector<std::string> names;
    for (auto i : users) names.push_back(proxies[i]->name);
    return names;
  };

  // The initial network is the engine's Build pass network: same seed, same factory.
  std::string failure;  // set once an epoch failed: every later epoch inherits the cause
  SearchNetwork network;
  {
    PassOutcome build;
    build.pass = Pass::Build;
    build.name = "build_for_training";
    build.users = names_of(users_from(1, false));
    Stopwatch watch;
    try {
      torch::manual_seed(input.seed);
      network = input.make_network();
      network->to(input.device, input.dtype);
      wait_for_device(input.device);
    } catch (const std::exception& e) {
      failure = "pass build_for_training failed: " + failure_reason(e);
      build.ok = false;
      build.failure = failure;
    }
    build.seconds = watch.seconds();
    for (size_t i = 0; i < proxies.size(); ++i)
      result.proxies[i].shared_seconds += build.seconds / static_cast<double>(proxies.size());
    result.passes.push_back(std::move(build));
  }
  std::unique_ptr<Trainer> trainer;
  if (failure.empty()) trainer = std::make_unique<Trainer>(network, training_images, options);

  for (int epoch = 1; epoch <= last_epoch; ++epoch) {
    const auto continuing = users_from(epoch, false);
    PassOutcome train;
    train.pass = Pass::Training;
    train.name = "train_epoch_" + std::to_string(epoch);
    train.users = names_of(continuing);
    EpochMetrics metrics;
    if (failure.empty()) {
      Stopwatch watch;
      try {
        metrics = trainer->train_epoch();
        wait_for_device(input.device);
      } catch (const std::exception& e) {
        failure = "training failed in epoch " + std::to_string(epoch) + ": " + failure_reason(e);
      }
      train.seconds = watch.seconds();
    }
    if (!failure.empty()) {
      train.ok = false;
      train.failure = failure;
    }
    for (auto i : continuing)
      result.proxies[i].shared_seconds += train.seconds / static_cast<double>(continuing.size());
    result.passes.push_back(std::move(train));

    const auto here = users_from(epoch, true);
    if (here.empty()) continue;
    if (!failure.empty()) {
      for (auto i : here) result.proxies[i].failure = failure;
      continue;
    }

    // Engine proxies on a copy of the trained network; training metrics straight from the epoch.
    std::vector<const ProxyInfo*> bases;
    std::vector<size_t> base_users;
    for (auto i : here) {
      ProxyOutcome& out = result.proxies[i];
      if (is_training_metric(*proxies[i])) {
        out.value = proxies[i]->base_name == "train_loss" ? metrics.mean_loss : metrics.accuracy;
        out.ok = std::isfinite(out.value);
        if (!out.ok) out.failure = "non-finite value";
      } else {
        bases.push_back(&find_proxy(proxies[i]->base_name));
        base_users.push_back(i);
      }
    }
    if (bases.empty()) continue;
    EngineInput trained = input;
    trained.make_network = [&input, &network] {
      SearchNetwork copy = input.make_network();
      copy_network_state(*network, *copy);  // the engine moves it to input.device
      return copy;
    };
    const ArchScores scores = score_architecture(trained, bases);
    std::map<std::string, std::string> trained_name;
    for (size_t j = 0; j < bases.size(); ++j) trained_name[bases[j]->name] = proxies[base_users[j]]->name;
    for (size_t j = 0; j < bases.size(); ++j) {
      ProxyOutcome& out = result.proxies[base_users[j]];
      const ProxyOutcome& got = scores.proxies[j];
      out.ok = got.ok;
      out.value = got.value;
      out.failure = got.failure;
      out.own_seconds += got.own_seconds;
      out.shared_seconds += got.shared_seconds;
    }
    const std::string suffix = "_trained_" + std::to_string(epoch);
    for (PassOutcome pass : scores.passes) {
      pass.name += suffix;
      for (auto& user : pass.users) user = trained_name.at(user);
      result.passes.push_back(std::move(pass));
    }
  }
  return result;
}

}  // namespace nbz
