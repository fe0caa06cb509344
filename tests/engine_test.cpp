// The shared-pass engine: sharing changes no value, failures become outcomes with reasons, and
// timings are attributed.
#include "proxies/engine.h"

#include <gtest/gtest.h>

#include "spaces/nb201_network.h"
#include "spaces/nb201_space.h"
#include "suite/run_inputs.h"
#include "tests/tiny_network.h"

namespace nbz {
namespace {

EngineInput nb201_input(const std::string& arch, std::uint64_t seed = 0) {
  EngineInput in;
  const auto cell = nb201::Cell::parse(arch);
  in.make_network = nb201_factory(cell, nb201::NetworkOptions{});
  in.make_thin_network = nb201_factory(cell, nb201_thin_options({}));

  in.seed = seed;
  torch::manual_seed(99);
  in.images = torch::randn({8, 3, 32, 32});
  in.labels = torch::randint(0, 10, {8}, torch::kInt64);
  in.linear_region_inputs = torch::randn({3000, 1, 3, 3});
  // A small NNGP split so that "all" can run here.
  static NngpData nngp;
  nngp.train_images = torch::randn({24, 3, 32, 32});
  nngp.train_labels = torch::randint(0, 10, {24}, torch::kInt64);
  nngp.val_images = torch::randn({12, 3, 32, 32});
  nngp.val_labels = torch::randint(0, 10, {12}, torch::kInt64);
  nngp.bn_images = nngp.train_images.slice(0, 0, 8);
  in.nngp_data = &nngp;
  in.nngp.members = 2;
  return in;
}

const char* kArch = "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|";

TEST(Engine, SharingPassesChangesNoValue) {
  torch::set_num_threads(1);
  const auto all = resolve_proxy_list("all");
  const auto together = score_architecture(nb201_input(kArch), all);
  ASSERT_EQ(together.proxies.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const auto alone = score_architecture(nb201_input(kArch), {all[i]});
    ASSERT_TRUE(together.proxies[i].ok) << all[i]->name << together.proxies[i].failure;
    ASSERT_TRUE(alone.proxies[0].ok) << all[i]->name;
    EXPECT_EQ(together.proxies[i].value, alone.proxies[0].value) << all[i]->name;
  }
}

TEST(Engine, EachPassRunsOnceAndIsShared) {
  const auto out = score_architecture(nb201_input(kArch), resolve_proxy_list("grad_norm,snip,naswot,params"));
  std::map<std::string, std::vector<std::string>> users;
  for (const auto& p : out.passes) {
    EXPECT_EQ(p.name, pass_name(p.pass));  // the name the passes table stores
    users[p.name] = p.users;
  }
  EXPECT_EQ(out.passes.size(), 3u);  // build, train_forward, loss_grad
  EXPECT_EQ(users["build"].size(), 4u);
  EXPECT_EQ(users["train_forward"], (std::vector<std::string>{"grad_norm", "snip", "naswot"}));
  EXPECT_EQ(users["loss_grad"], (std::vector<std::string>{"grad_norm", "snip"}));
  for (const auto& p : out.proxies) {
    EXPECT_GT(p.shared_seconds, 0) << p.proxy->name;
    EXPECT_GE(p.own_seconds, 0) << p.proxy->name;
  }
  // grad_norm's share: build / 4 + forward / 3 + loss_grad / 2.
  double expected = 0;
  for (const auto& p : out.passes) expected += p.seconds / static_cast<double>(p.users.size());
  double params_share = out.passes[0].seconds / 4;
  EXPECT_NEAR(out.proxies[0].shared_seconds, expected, 1e-12);
  EXPECT_NEAR(out.proxies[3].shared_seconds, params_share, 1e-12);
}

TEST(Engine, LinearRegionsWithoutAThinNetworkIsAFailureRowWithTheReason) {
  auto in = nb201_input(kArch);
  in.make_thin_network = nullptr;
  const auto out = score_architecture(in, resolve_proxy_list("params,linear_regions"));
  EXPECT_TRUE(out.proxies[0].ok);
  EXPECT_FALSE(out.proxies[1].ok);
  EXPECT_NE(out.proxies[1].failure.find("no thin network"), std::string::npos);
}

TEST(Engine, DegenerateCellsGiveFailureRowsWithReasons) {
  // Every edge into node 3 is `none`: the logits do not depend on the input or on any conv.
  const auto out = score_architecture(
      nb201_input("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"),
      resolve_proxy_list("all"));
  std::map<std::string, ProxyOutcome> by_name;
  for (const auto& p : out.proxies) by_name[p.proxy->name] = p;
  EXPECT_TRUE(by_name["params"].ok);
  EXPECT_TRUE(by_name["synflow"].ok);
  EXPECT_EQ(by_name["synflow"].value, 0.0);
  EXPECT_FALSE(by_name["synflow_log"].ok);
  EXPECT_EQ(by_name["synflow_log"].failure, "non-finite value: -inf");
  EXPECT_FALSE(by_name["jacob_cov"].ok);
  EXPECT_FALSE(by_name["jacob_cov"].failure.empty());
  EXPECT_TRUE(by_name["naswot"].ok);  // the first cell's ReLUs still see the input
}

TEST(Engine, NonFiniteWeightsFailEveryDataProxy) {
  EngineInput in;
  in.make_network = [] {
    auto net = test::make_tiny();
    torch::NoGradGuard ng;
    net->conv2->weight[0][0][0][0] = std::nan("");
    return std::static_pointer_cast<SearchNetworkImpl>(net);
  };
  in.images = torch::randn({4, 3, 4, 4});
  in.labels = torch::tensor({0, 1, 2, 0}, torch::kInt64);
  const auto out = score_architecture(in, resolve_proxy_list("params,grad_norm,snip,l2_norm"));
  EXPECT_TRUE(out.proxies[0].ok);
  for (size_t i = 1; i < out.proxies.size(); ++i) {
    EXPECT_FALSE(out.proxies[i].ok) << out.proxies[i].proxy->name;
    EXPECT_EQ(out.proxies[i].failure, "non-finite value: nan") << out.proxies[i].proxy->name;
  }
}

TEST(Engine, AFailingPassFailsItsUsersWithThePassNamed) {
  EngineInput in;
  in.make_network = test::tiny_factory();
  in.images = torch::randn({4, 2, 4, 4});  // 2 channels: the first conv cannot run
  in.labels = torch::tensor({0, 1, 2, 0}, torch::kInt64);
  const auto out = score_architecture(in, resolve_proxy_list("params,grad_norm,jacob_cov"));
  EXPECT_TRUE(out.proxies[0].ok);
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_FALSE(out.proxies[i].ok);
    EXPECT_EQ(out.proxies[i].failure.rfind("pass train_forward failed: ", 0), 0u)
        << out.proxies[i].failure;
  }
  for (const auto& p : out.passes)
    if (p.pass == Pass::LossGrad || p.pass == Pass::InputJacobian) EXPECT_FALSE(p.ok);
}

}  // namespace
}  // namespace nbz
