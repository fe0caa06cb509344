// NAS-Bench-101 in the engine as a sweep feeds it (suite/run_inputs.h): the network factory, the
// NNGP split on the network's pooled features, linear_regions failing for want of a thin
// network, the check-space counting scope, and the space options of suite/sweep.h.
#include <gtest/gtest.h>

#include "datasets/cifar10.h"
#include "foundation/errors.h"
#include "proxies/engine.h"
#include "spaces/nb101_network.h"
#include "suite/run_inputs.h"
#include "suite/sweep.h"
#include "tests/test_support.h"

namespace nbz {
namespace {

const nb101::GroundTruthRow& first_row() {
  static const auto rows =
      nb101::load_ground_truth(test::data_dir() + "/nasbench101/nb101_ground_truth_20k.csv");
  return rows.at(0);  // 00005c14..., 8,555,530 parameters
}

TEST(Nb101Engine, FactoryNngpAndLinearRegionsAsTheSweepRunsThem) {
  torch::set_num_threads(1);
  const ImageSet train = load_cifar10_train(test::data_dir());
  EngineInput in;
  in.make_network = nb101_factory(first_row().cell, nb101::NetworkOptions{});
  // make_thin_network left empty, as the sweep does for NB101.
  in.linear_region_inputs = linear_region_crops(train, 0);
  in.seed = 0;
  std::tie(in.images, in.labels) =
      minibatch_tensors(make_minibatch(train, minibatch_indices(train.size(), 4, 0)));
  const auto nngp = prepare_nngp_split(train, "cifar10-exact-4k", 16, 8, 0, 32, 10);
  in.nngp_data = nngp.get();
  in.nngp.n_train = 16;
  in.nngp.n_val = 8;
  in.nngp.members = 1;

  const auto out =
      score_architecture(in, resolve_proxy_list("params,linear_regions,nngp_acc,nngp_best_eps"));
  ASSERT_EQ(out.proxies.size(), 4u);
  EXPECT_TRUE(out.proxies[0].ok);
  EXPECT_EQ(out.proxies[0].value, 8555530);
  EXPECT_FALSE(out.proxies[1].ok);
  EXPECT_NE(out.proxies[1].failure.find("no thin network is defined"), std::string::npos)
      << out.proxies[1].failure;
  ASSERT_TRUE(out.proxies[2].ok) << out.proxies[2].failure;
  EXPECT_GE(out.proxies[2].value, 0.0);
  EXPECT_LE(out.proxies[2].value, 1.0);
  EXPECT_TRUE(out.proxies[3].ok) << out.proxies[3].failure;
}

TEST(Nb101Engine, SkipInitScopeCountsWithoutDrawingWeights) {
  torch::manual_seed(5);
  const auto expected = torch::rand({3});
  torch::manual_seed(5);
  {
    SkipInitScope skip;
    nb101::Network net(first_row().cell);
    EXPECT_EQ(net->num_trainable_parameters(), first_row().trainable_parameters);
  }
  // The generator did not advance, and ops compute again once the scope is gone.
  EXPECT_TRUE(torch::equal(torch::rand({3}), expected));
  EXPECT_EQ(torch::ones({2}).sum().item<float>(), 2.0f);
}

TEST(Nb101Engine, SpaceOptions) {
  EXPECT_EQ(default_batch_size("nb201"), 64);
  EXPECT_EQ(default_batch_size("nb101"), 128);
  SweepOptions o;
  o.space = "nb101";
  EXPECT_NO_THROW(check_space_options(o));
  o.dataset = "cifar100";
  try {
    check_space_options(o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'cifar100'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("CIFAR-10 only"), std::string::npos) << e.what();
  }
  o.space = "nb201";
  EXPECT_NO_THROW(check_space_options(o));
  o.space = "nb301";
  EXPECT_THROW(check_space_options(o), Error);
}

}  // namespace
}  // namespace nbz
