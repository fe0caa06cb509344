// The NTK time evolution (proxies/ntk_evolution.h): `<metric>_trained_<k>` must be exactly the
// metric of the network trained k epochs by spaces/training.h, computed a second way here by
// training a network by hand and scoring it with the plain engine.
#include <gtest/gtest.h>

#include <map>

#include "proxies/catalog.h"
#include "proxies/ntk_evolution.h"
#include "spaces/training.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

ImageSet tiny_images(int n) {
  ImageSet set;
  set.channels = 3;
  set.height = set.width = 8;
  set.num_classes = 3;
  torch::manual_seed(123);
  const auto pixels = torch::randint(0, 256, {n * 3 * 8 * 8}, torch::kInt64);
  for (int i = 0; i < n * 3 * 8 * 8; ++i)
    set.pixels.push_back(static_cast<std::uint8_t>(pixels[i].item<std::int64_t>()));
  for (int i = 0; i < n; ++i) set.labels.push_back(i % 3);
  return set;
}

EngineInput tiny_input() {
  EngineInput in;
  in.make_network = test::tiny_factory();
  in.seed = 7;
  torch::manual_seed(99);
  in.images = torch::randn({6, 3, 8, 8});
  in.labels = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kInt64);
  return in;
}

TrainingOptions tiny_training() {
  TrainingOptions t;
  t.batch_size = 8;
  t.seed = 7;
  return t;
}

std::map<std::string, ProxyOutcome> by_name(const std::vector<ProxyOutcome>& outcomes) {
  std::map<std::string, ProxyOutcome> m;
  for (const auto& o : outcomes) m[o.proxy->name] = o;
  return m;
}

TEST(NtkEvolution, TrainedMetricsEqualTheEngineOnAHandTrainedNetwork) {
  const ImageSet images = tiny_images(20);
  const EngineInput input = tiny_input();
  const auto proxies = expand_train_epochs(resolve_proxy_list("lga,ntk_cond,ntk_trace"), "1,2");
  std::vector<const ProxyInfo*> trained;
  for (const auto* p : proxies) trained.push_back(p);
  const auto got = by_name(score_after_training(input, images, tiny_training(), trained).proxies);

  // Second path: build with the seed, train by hand, score the plain metrics after each epoch.
  torch::manual_seed(input.seed);
  SearchNetwork net = input.make_network();
  Trainer trainer(net, images, tiny_training());
  for (int k = 1; k <= 2; ++k) {
    const EpochMetrics m = trainer.train_epoch();
    EngineInput at_k = input;
    at_k.make_network = [&] {
      SearchNetwork copy = input.make_network();
      copy_network_state(*net, *copy);
      return copy;
    };
    const auto want = by_name(score_architecture(at_k, resolve_proxy_list("lga,ntk_cond,ntk_trace")).proxies);
    const std::string suffix = "_trained_" + std::to_string(k);
    for (const char* metric : {"lga", "ntk_cond", "ntk_trace"}) {
      const auto& g = got.at(metric + suffix);
      ASSERT_TRUE(g.ok) << g.failure;
      EXPECT_EQ(g.value, want.at(metric).value) << metric << suffix;  // bit-identical
    }
    EXPECT_EQ(got.at("train_loss" + suffix).value, m.mean_loss);
    EXPECT_EQ(got.at("train_acc" + suffix).value, m.accuracy);
  }
  // Training changed the network: the metric moved away from its value at initialisation.
  const auto init = by_name(score_architecture(input, resolve_proxy_list("ntk_trace")).proxies);
  EXPECT_NE(init.at("ntk_trace").value, got.at("ntk_trace_trained_1").value);
}

TEST(NtkEvolution, TheNetworkAfterKEpochsDoesNotDependOnTheOtherEpochsAsked) {
  const ImageSet images = tiny_images(20);
  const EngineInput input = tiny_input();
  const auto alone = by_name(score_after_training(input, images, tiny_training(),
                                                  {&trained_proxy("lga", 2)}).proxies);
  const auto with_more = by_name(score_after_training(
      input, images, tiny_training(),
      {&trained_proxy("lga", 1), &trained_proxy("lga", 2), &trained_proxy("lga", 3)}).proxies);
  EXPECT_EQ(alone.at("lga_trained_2").value, with_more.at("lga_trained_2").value);
}

TEST(NtkEvolution, DivergedTrainingFailsThatEpochAndLaterOnesWithTheReason) {
  const ImageSet images = tiny_images(20);
  EngineInput input = tiny_input();
  TrainingOptions t = tiny_training();
  t.lr = 1e30;  // the first update overflows; epoch 2's first batch loss is not finite
  const auto out = score_after_training(
      input, images, t, {&trained_proxy("lga", 1), &trained_proxy("lga", 2),
                         &trained_proxy("train_loss", 3)});
  const auto got = by_name(out.proxies);
  EXPECT_FALSE(got.at("lga_trained_2").ok);
  EXPECT_NE(got.at("lga_trained_2").failure.find("training failed in epoch"), std::string::npos)
      << got.at("lga_trained_2").failure;
  EXPECT_FALSE(got.at("train_loss_trained_3").ok);
  EXPECT_EQ(got.at("train_loss_trained_3").failure, got.at("lga_trained_2").failure);
  bool failed_pass = false;
  for (const auto& p : out.passes) failed_pass = failed_pass || (!p.ok && p.name.rfind("train_epoch_", 0) == 0);
  EXPECT_TRUE(failed_pass);
}

TEST(NtkEvolution, PassesAndTimesAreChargedToTheirProxies) {
  const ImageSet images = tiny_images(12);
  const auto out = score_after_training(tiny_input(), images, tiny_training(),
                                        {&trained_proxy("lga", 1), &trained_proxy("ntk_fro", 1)});
  std::map<std::string, PassOutcome> passes;
  for (const auto& p : out.passes) passes[p.name] = p;
  ASSERT_TRUE(passes.count("train_epoch_1"));
  ASSERT_TRUE(passes.count("ntk_jacobian_trained_1"));
  EXPECT_EQ(passes["ntk_jacobian_trained_1"].users,
            (std::vector<std::string>{"lga_trained_1", "ntk_fro_trained_1"}));
  // Each stored name keeps the pass it times.
  EXPECT_EQ(passes["train_epoch_1"].pass, Pass::Training);
  EXPECT_EQ(passes["ntk_jacobian_trained_1"].pass, Pass::NtkJacobian);
  double charged = 0, spent = 0;
  for (const auto& p : out.proxies) charged += p.shared_seconds;
  for (const auto& p : out.passes) spent += p.seconds;
  EXPECT_NEAR(charged, spent, 1e-9 + 1e-9 * spent);
}

}  // namespace
}  // namespace nbz
