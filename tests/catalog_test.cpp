// The proxy catalog's name resolution (torch-free): groups, the `<metric>_trained_<k>` names of
// the NTK time evolution and --train-epochs expansion.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "foundation/errors.h"
#include "proxies/catalog.h"

namespace nbz {
namespace {

std::vector<std::string> names(const std::vector<const ProxyInfo*>& proxies) {
  std::vector<std::string> out;
  for (const auto* p : proxies) out.push_back(p->name);
  return out;
}

TEST(Catalog, TrainedNamesResolveToOneStableDefinition) {
  const ProxyInfo& a = find_proxy("lga_trained_3");
  EXPECT_EQ(&a, &trained_proxy("lga", 3));
  EXPECT_EQ(a.base_name, "lga");
  EXPECT_EQ(a.train_epochs, 3);
  EXPECT_EQ(a.sign, find_proxy("lga").sign);
  EXPECT_EQ(find_proxy("ntk_cond_trained_1").sign, -1);  // lower condition number is better
  EXPECT_EQ(a.passes.front(), Pass::Training);
  EXPECT_NE(a.parameters.find("train_epochs=3"), std::string::npos);
  EXPECT_TRUE(find_proxy("train_loss_trained_2").auxiliary);
  EXPECT_EQ(find_proxy("lga").train_epochs, 0);
}

TEST(Catalog, BadTrainedNamesAreNamed) {
  for (const std::string bad : {"snip_trained_1", "lga_trained_0", "lga_trained_201",
                                "lga_trained_01", "lga_trained_", "lga_trained_x"}) {
    try {
      (void)find_proxy(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(bad.substr(0, bad.rfind("_trained_"))),
                std::string::npos)
          << e.what();
    }
  }
}

TEST(Catalog, TrainEpochsExpandTheTrainableProxiesOnly) {
  const auto requested = resolve_proxy_list("snip,lga,ntk_cond");
  EXPECT_EQ(names(expand_train_epochs(requested, "0")), names(requested));
  EXPECT_EQ(names(expand_train_epochs(requested, "0,2,1")),
            (std::vector<std::string>{"snip", "lga", "ntk_cond", "lga_trained_1",
                                      "ntk_cond_trained_1", "train_loss_trained_1",
                                      "train_acc_trained_1", "lga_trained_2",
                                      "ntk_cond_trained_2", "train_loss_trained_2",
                                      "train_acc_trained_2"}));
  // Without 0 the trainable proxies are not computed at initialisation; the others still are.
  EXPECT_EQ(names(expand_train_epochs(requested, "1")),
            (std::vector<std::string>{"snip", "lga_trained_1", "ntk_cond_trained_1",
                                      "train_loss_trained_1", "train_acc_trained_1"}));
}

TEST(Catalog, BadTrainEpochListsAreNamed) {
  const auto requested = resolve_proxy_list("lga");
  for (const std::string bad : {"", "1,,2", "-1", "1,1", "two", "201", "1.5"}) {
    try {
      (void)expand_train_epochs(requested, bad);
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--train-epochs '" + bad + "'"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_THROW((void)expand_train_epochs(resolve_proxy_list("snip"), "1"), Error);
}

}  // namespace
}  // namespace nbz
