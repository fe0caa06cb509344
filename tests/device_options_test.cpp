// The CPU-side stand-in for a GPU run (issue #26): every pass must make its tensors with the
// options (device and dtype) of the network and batch it works on. On CUDA a tensor made on the
// CPU fails as "Expected all tensors to be on the same device"; here the engine runs with network
// and batch in float64, where a tensor made with default options (CPU, float32) fails the same ops
// as a dtype mismatch (conv, matmul, in-place accumulation). So every proxy, on NB201 and NB101
// networks and after training, must be a success row in float64, and agree with its float32 value
// to float32 precision (a second, independent check of each definition's arithmetic).
//
// What this cannot catch, and tests/device_lint.py (a source check) or the GPU check must:
// tensors made with an explicit dtype but no device (float64 matches float64 here), ops that
// promote a float32 operand instead of failing, `.cpu()` results mixed with device tensors, and
// random draws on a device generator (a CUDA run would score other weights, silently).
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "proxies/catalog.h"
#include "proxies/engine.h"
#include "proxies/ntk_evolution.h"
#include "spaces/nb101_network.h"
#include "spaces/nb201_network.h"
#include "spaces/training.h"
#include "suite/run_inputs.h"

namespace nbz {
namespace {

NngpData& small_nngp_split() {
  static NngpData nngp = [] {
    NngpData d;
    torch::manual_seed(41);
    d.train_images = torch::randn({24, 3, 32, 32});
    d.train_labels = torch::randint(0, 10, {24}, torch::kInt64);
    d.val_images = torch::randn({12, 3, 32, 32});
    d.val_labels = torch::randint(0, 10, {12}, torch::kInt64);
    d.bn_images = d.train_images.slice(0, 0, 8);
    return d;
  }();
  return nngp;
}

EngineInput nb201_input(torch::Dtype dtype) {
  EngineInput in;
  const auto cell = nb201::Cell::parse(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
  nb201::NetworkOptions small;
  small.stem_channels = 8;
  small.cells_per_stage = 1;
  in.make_network = nb201_factory(cell, small);
  in.make_thin_network = nb201_factory(cell, nb201_thin_options(small));
  in.seed = 3;
  torch::manual_seed(17);
  in.images = torch::randn({8, 3, 32, 32});
  in.labels = torch::tensor({0, 1, 2, 3, 0, 1, 2, 5}, torch::kInt64);
  in.linear_region_inputs = torch::randn({3000, 1, 3, 3});
  in.nngp_data = &small_nngp_split();
  in.nngp.members = 2;
  in.dtype = dtype;
  return in;
}

// float32 against float64 scores of the same network and batch. Most proxies agree to ~1e-6;
// these amplify float32 rounding: signed sums that cancel (plain, grasp), ratios of small
// gradient differences (zico), sign counts (gradsign), eigenvalue ratios of ill-conditioned
// matrices (ntk_cond, ntk_lambda_min, the Gram log-determinants).
double tolerance(const std::string& name) {
  static const std::map<std::string, double> loose = {
      {"plain", 1e-2},          {"grasp", 1e-2},          {"zico", 1e-3},
      {"gradsign", 1e-2},       {"ntk_cond", 1e-2},       {"ntk_lambda_min", 1e-2},
      {"gradalign_gram", 1e-2}, {"gradalign_gram_b1", 1e-2}, {"jacob_cov", 1e-3},
      {"epe_nas", 1e-3},        {"meco", 1e-3},           {"zen", 1e-4}};
  auto it = loose.find(name);
  return it == loose.end() ? 1e-4 : it->second;
}

void expect_all_ok_and_close(const ArchScores& f64, const ArchScores& f32) {
  ASSERT_EQ(f64.proxies.size(), f32.proxies.size());
  for (size_t i = 0; i < f64.proxies.size(); ++i) {
    const auto& a = f64.proxies[i];
    const auto& b = f32.proxies[i];
    const std::string& name = a.proxy->name;
    ASSERT_TRUE(b.ok) << name << " fails in float32 too, so the check is void: " << b.failure;
    EXPECT_TRUE(a.ok) << name << " fails with float64 network and batch: " << a.failure;
    if (!a.ok) continue;
    if (name == "nngp_best_eps" || name == "nngp_acc" || name == "nngp_val_loss") {
      // Argmax-type outputs: a float32 rounding may pick another eps; only require finite values.
      EXPECT_TRUE(std::isfinite(a.value)) << name;
      continue;
    }
    EXPECT_NEAR(a.value, b.value, tolerance(name) * std::abs(b.value) + 1e-9) << name;
  }
}

TEST(DeviceOptions, EveryProxyTakesTheOptionsOfNetworkAndBatchOnNb201) {
  torch::set_num_threads(1);
  const auto all = resolve_proxy_list("all");
  const auto f64 = score_architecture(nb201_input(torch::kFloat64), all);
  const auto f32 = score_architecture(nb201_input(torch::kFloat32), all);
  expect_all_ok_and_close(f64, f32);
  for (const auto& pass : f64.passes) EXPECT_TRUE(pass.ok) << pass.name << ": " << pass.failure;
}

TEST(DeviceOptions, EveryProxyTakesTheOptionsOfNetworkAndBatchOnNb101) {
  torch::set_num_threads(1);
  nb101::Cell cell;
  cell.num_vertices = 5;
  cell.adjacency.assign(25, 0);
  for (auto [from, to] : {std::pair{0, 1}, {0, 2}, {1, 3}, {2, 3}, {3, 4}, {0, 4}, {1, 4}})
    cell.adjacency[static_cast<size_t>(from * 5 + to)] = 1;
  cell.interior_ops = {nb101::Op::Conv3x3, nb101::Op::Conv1x1, nb101::Op::MaxPool3x3};
  nb101::NetworkOptions small;
  small.stem_channels = 8;
  small.num_stacks = 2;
  small.cells_per_stack = 1;
  auto input = [&](torch::Dtype dtype) {
    EngineInput in = nb201_input(dtype);
    in.make_network = nb101_factory(cell, small);
    in.make_thin_network = nullptr;  // NB101 has none: linear_regions is left out below
    return in;
  };
  std::vector<const ProxyInfo*> proxies;
  for (const auto* p : resolve_proxy_list("all"))
    if (p->name != "linear_regions") proxies.push_back(p);
  expect_all_ok_and_close(score_architecture(input(torch::kFloat64), proxies),
                          score_architecture(input(torch::kFloat32), proxies));
}

TEST(DeviceOptions, TrainedProxiesTakeTheOptionsOfNetworkAndBatch) {
  torch::set_num_threads(1);
  ImageSet images;
  images.channels = 3;
  images.height = images.width = 32;
  images.num_classes = 10;
  torch::manual_seed(5);
  const auto pixels = torch::randint(0, 256, {16 * 3 * 32 * 32}, torch::kInt64);
  const auto* p = pixels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < pixels.numel(); ++i) images.pixels.push_back(static_cast<std::uint8_t>(p[i]));
  for (int i = 0; i < 16; ++i) images.labels.push_back(i % 10);
  TrainingOptions training;
  training.batch_size = 8;
  training.seed = 3;
  std::vector<const ProxyInfo*> trained;
  // One epoch, then the NTK metrics, and the epoch's training loss and accuracy.
  for (const auto* proxy : expand_train_epochs(resolve_proxy_list("lga,ntk_cond"), "1"))
    trained.push_back(proxy);
  ASSERT_EQ(trained.size(), 4u);
  const auto f64 = score_after_training(nb201_input(torch::kFloat64), images, training, trained);
  const auto f32 = score_after_training(nb201_input(torch::kFloat32), images, training, trained);
  expect_all_ok_and_close(f64, f32);
}

}  // namespace
}  // namespace nbz
