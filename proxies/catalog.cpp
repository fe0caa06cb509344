#include "proxies/catalog.h"

#include <set>

#include "suite/errors.h"

namespace nbz {

const char* pass_name(Pass pass) {
  switch (pass) {
    case Pass::Build: return "build";
    case Pass::Batch1Forward: return "batch1_forward";
    case Pass::TrainForward: return "train_forward";
    case Pass::LossGrad: return "loss_grad";
    case Pass::InputJacobian: return "input_jacobian";
    case Pass::Synflow: return "synflow_pass";
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
    return c;
  }();
  return catalog;
}

const ProxyInfo& find_proxy(const std::string& name) {
  for (const auto& p : proxy_catalog())
    if (p.name == name) return p;
  std::string known;
  for (const auto& p : proxy_catalog()) known += (known.empty() ? "" : ", ") + p.name;
  throw Error("unknown proxy '" + name + "' (known: " + known + ", or all)");
}

std::vector<const ProxyInfo*> resolve_proxy_list(const std::string& list) {
  std::vector<const ProxyInfo*> out;
  if (list == "all") {
    for (const auto& p : proxy_catalog()) out.push_back(&p);
    return out;
  }
  std::set<std::string> seen;
  std::string item;
  for (size_t pos = 0; pos <= list.size(); ++pos) {
    if (pos == list.size() || list[pos] == ',') {
      if (item.empty()) throw Error("empty entry in proxy list '" + list + "'");
      if (!seen.insert(item).second)
        throw Error("proxy '" + item + "' appears twice in '" + list + "'");
      out.push_back(&find_proxy(item));
      item.clear();
    } else {
      item.push_back(list[pos]);
    }
  }
  return out;
}

}  // namespace nbz
