// Jacobian and activation-pattern proxies (proxies.md section 3): naswot (NASLib's nwot),
// jacob_cov (zero-cost-nas), epe_nas (NASLib), meco (MeCo), zen (NASLib's zen), linear_regions
// (TE-NAS).
#include <cmath>
#include <map>
#include <unordered_set>

#include "proxies/proxy_functions.h"

namespace nbz {
namespace {

// np.corrcoef of the rows of x, in float64, clipped to [-1, 1] as numpy does. Rows with zero
// variance give NaN entries, as numpy does.
torch::Tensor row_correlation(const torch::Tensor& x) {
  auto j = x.to(torch::kFloat64);
  auto centred = j - j.mean(1, /*keepdim=*/true);
  auto cov = torch::matmul(centred, centred.t());
  auto sd = cov.diagonal().sqrt();
  return (cov / sd.unsqueeze(1) / sd.unsqueeze(0)).clamp(-1.0, 1.0);
}

}  // namespace

void ReluCodeTaps::relu_input(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto c = (x.detach().flatten(1) > 0).to(torch::kFloat32);
  // c c^T + (1-c)(1-c)^T = 2 c c^T + D - |c_i| - |c_j|: one matmul instead of two. Entries are
  // integer counts below 2^24, so float32 is exact here.
  const double d = static_cast<double>(c.size(1));
  auto gram = torch::matmul(c, c.t()).to(torch::kFloat64);
  auto ones_count = c.sum(1).to(torch::kFloat64);
  auto term = 2.0 * gram + d - ones_count.unsqueeze(1) - ones_count.unsqueeze(0);
  kernel = kernel.defined() ? kernel + term : term;
}

double proxy_naswot(const PassArtifacts& a) {
  if (!a.naswot_kernel.defined()) throw std::runtime_error("the network has no ReLU: no codes");
  auto result = torch::linalg_slogdet(a.naswot_kernel);
  return std::get<1>(result).item<double>();
}

double proxy_jacob_cov(const PassArtifacts& a) {
  auto corr = row_correlation(a.input_jacobian);
  // The reference gets NaN here (np.corrcoef of a constant row); name the cause instead of
  // handing a NaN matrix to the eigensolver.
  if (corr.isnan().any().item<bool>())
    throw std::runtime_error(
        "a sample's input Jacobian is constant (zero variance): its correlation is undefined");
  auto v = torch::linalg_eigvalsh(corr);
  constexpr double k = 1e-5;
  return -(torch::log(v + k) + 1.0 / (v + k)).sum().item<double>();
}

double proxy_epe_nas(const PassArtifacts& a) {
  constexpr double k = 1e-5;
  const auto labels = a.labels.to(torch::kCPU);  // cpu: read element by element to group rows
  std::map<std::int64_t, std::vector<std::int64_t>> rows_of_class;
  for (std::int64_t i = 0; i < labels.size(0); ++i)
    rows_of_class[labels[i].item<std::int64_t>()].push_back(i);
  const bool many_classes = a.num_classes > 100;
  std::vector<double> per_class;
  for (const auto& [label, rows] : rows_of_class) {
    (void)label;
    if (rows.size() == 1) {
      // np.corrcoef of one row is the scalar 1; NASLib's per-row normalisation then fails on
      // the 0-d array and skips the class.
      if (!many_classes) per_class.push_back(std::log(1.0 + k));
      continue;
    }
    auto corr = row_correlation(a.input_jacobian.index_select(
        0, torch::tensor(rows).to(a.input_jacobian.device())));
    double s = torch::log(corr.abs() + k).sum().item<double>();
    if (many_classes) s /= static_cast<double>(rows.size());
    per_class.push_back(s);
  }
  double score = 0;
  if (!many_classes) {
    for (double s : per_class) score += std::abs(s);
  } else {
    for (double s : per_class)
      for (double t : per_class) score += std::abs(s - t);
    if (!per_class.empty()) score /= static_cast<double>(per_class.size());
  }
  return score;
}

void MecoTaps::module_output(const torch::Tensor& out) {
  if (out.dim() != 4) return;
  torch::NoGradGuard no_grad;
  auto fea = out.detach()[0].reshape({out.size(1), -1});
  auto corr = row_correlation(fea);
  corr = torch::where(torch::isfinite(corr), corr, torch::zeros_like(corr));
  sum += torch::linalg_eigvalsh(corr).min().item<double>();
}

double proxy_meco(const PassArtifacts& a) { return a.meco; }

void WeightedOutputTaps::weighted_output(const torch::Tensor& weight, const torch::Tensor& out) {
  outputs.push_back(out);
  fan_ins.push_back(weight.numel() / weight.size(0));
}

double zen_pass(const NetworkFactory& make_network, const std::vector<std::int64_t>& input_shape,
                std::uint64_t seed, const torch::TensorOptions& options) {
  torch::NoGradGuard no_grad;
  SearchNetwork net = make_network();
  net->train();
  // Re-initialised on the CPU generator, then moved, so that every device scores the same weights.
  torch::manual_seed(seed);
  for (const auto& module : net->modules(/*include_self=*/false)) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(module.get())) {
      conv->weight.normal_();
      if (conv->bias.defined()) conv->bias.zero_();
    } else if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get())) {
      bn->weight.fill_(1);
      bn->bias.zero_();
    } else if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(module.get())) {
      linear->weight.normal_();
      if (linear->bias.defined()) linear->bias.zero_();
    }
  }
  net->to(options.device(), options.dtype().toScalarType());
  // Drawn on the CPU generator so that the inputs are the same on every device.
  auto x = torch::randn(input_shape).to(options);
  auto e = torch::randn(input_shape).to(options);
  auto out = net->features(x, {});
  auto mixed = net->features(x + 0.01 * e, {});
  const double d = (out - mixed).abs().sum({1, 2, 3}).mean().item<double>();
  double log_bn = 0;
  for (const auto& module : net->modules(false))
    if (auto* bn = dynamic_cast<torch::nn::BatchNorm2dImpl*>(module.get()))
      log_bn += std::log(std::sqrt(bn->running_var.mean().item<double>()));
  return std::log(d) + log_bn;
}

double proxy_zen(const PassArtifacts& a) { return a.zen; }

namespace {

// Sign patterns of every ReLU of one forward, one row of bits per sample.
class ReluPatternTaps : public ForwardTaps {
 public:
  void relu_input(const torch::Tensor& x) override { codes.push_back((x.flatten(1) > 0)); }
  std::vector<torch::Tensor> codes;
};

}  // namespace

double linear_region_pass(const NetworkFactory& make_thin_network, const torch::Tensor& inputs,
                          std::uint64_t seed) {
  // TE-NAS (Chen et al. 2021, Linear_Region_Collector): batches of 1000 in train mode (BatchNorm
  // uses each batch's statistics), ReLU sign patterns concatenated over all ReLUs.
  constexpr std::int64_t kBatchSize = 1000;
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  SearchNetwork net = make_thin_network();
  net->to(inputs.device(), inputs.scalar_type());
  net->train();
  std::unordered_set<std::string> distinct;
  for (std::int64_t start = 0; start < inputs.size(0); start += kBatchSize) {
    auto x = inputs.slice(0, start, std::min(start + kBatchSize, inputs.size(0)));
    ReluPatternTaps taps;
    ForwardContext ctx;
    ctx.taps = &taps;
    net->forward(x, ctx);
    // cpu: the codes are hashed as bytes on the host
    auto bits = torch::cat(taps.codes, 1).to(torch::kCPU, torch::kUInt8).contiguous();
    const auto width = bits.size(1);
    const auto* data = bits.data_ptr<std::uint8_t>();
    for (std::int64_t i = 0; i < x.size(0); ++i)
      distinct.emplace(reinterpret_cast<const char*>(data + i * width), static_cast<size_t>(width));
  }
  return static_cast<double>(distinct.size());
}

double proxy_linear_regions(const PassArtifacts& a) { return a.linear_regions; }

}  // namespace nbz
