#include "spaces/nb101_network.h"

#include <algorithm>
#include <string>

#include "foundation/errors.h"
#include "spaces/pooling_3x3.h"
#include "spaces/second_order_layers.h"

namespace nbz::nb101 {
namespace {

// TF batch_normalization(momentum = 0.997) keeps 0.997 of the running value; PyTorch's momentum
// is the weight of the new batch statistic.
constexpr double kBnMomentum = 1.0 - 0.997;
constexpr double kBnEpsilon = 1e-5;

std::string describe(const Cell& cell) {
  return "NAS-Bench-101 cell (adjacency " + format_adjacency(cell) + ", operations " +
         format_operations(cell) + ")";
}

// TF max_pooling2d(pool 2, stride 2, 'same'): ceil(H / 2) outputs, the padding (for odd sizes,
// one row/column at the end) never wins. ceil_mode gives the same windows.
torch::Tensor downsample(const torch::Tensor& x) {
  return torch::max_pool2d(x, {2, 2}, {2, 2}, {0, 0}, {1, 1}, /*ceil_mode=*/true);
}

// model_builder.truncate: keeps the first `channels` channels.
torch::Tensor truncate(const torch::Tensor& x, int channels) {
  const auto have = x.size(1);
  NBZ_ASSERT(have >= channels && have - channels <= 1,
             "truncate from " + std::to_string(have) + " to " + std::to_string(channels));
  return have == channels ? x : x.narrow(1, 0, channels);
}

}  // namespace

std::vector<int> compute_vertex_channels(const Cell& cell, int input_channels,
                                         int output_channels) {
  const int v_count = cell.num_vertices;
  NBZ_ASSERT(v_count >= 2, "cell with fewer than 2 vertices");
  const int out = v_count - 1;
  std::vector<int> channels(static_cast<size_t>(v_count), 0);
  channels[0] = input_channels;
  channels[static_cast<size_t>(out)] = output_channels;
  if (v_count == 2) return channels;

  int fan_in = 0;  // interior vertices feeding the output (the input edge is not counted)
  for (int v = 1; v < out; ++v) fan_in += cell.has_edge(v, out) ? 1 : 0;
  NBZ_ASSERT(fan_in > 0, "pruned cell without an interior vertex feeding the output");
  const int share = output_channels / fan_in;
  int remainder = output_channels % fan_in;
  for (int v = 1; v < out; ++v) {
    if (!cell.has_edge(v, out)) continue;
    channels[static_cast<size_t>(v)] = share + (remainder > 0 ? 1 : 0);
    if (remainder > 0) --remainder;
  }
  // Backwards, so every successor is final before its predecessors read it.
  for (int v = out - 1; v >= 1; --v) {
    if (cell.has_edge(v, out)) continue;
    for (int w = v + 1; w < out; ++w)
      if (cell.has_edge(v, w))
        channels[static_cast<size_t>(v)] =
            std::max(channels[static_cast<size_t>(v)], channels[static_cast<size_t>(w)]);
  }
  for (int v = 1; v < out; ++v) {
    if (channels[static_cast<size_t>(v)] <= 0)
      throw Error(describe(cell) + ": " + std::to_string(output_channels) +
                  " output channels leave vertex " + std::to_string(v) + " without channels");
  }
  // The benchmark's sanity checks: channels never grow along an interior edge, and the vertices
  // feeding the output add up to its channels.
  int total = 0;
  for (int v = 1; v < out; ++v) {
    if (cell.has_edge(v, out)) total += channels[static_cast<size_t>(v)];
    for (int w = v + 1; w < out; ++w)
      NBZ_ASSERT(!cell.has_edge(v, w) ||
                     channels[static_cast<size_t>(v)] >= channels[static_cast<size_t>(w)],
                 "channel count grows along an interior edge");
  }
  NBZ_ASSERT(total == output_channels, "output fan-in does not add up to the output channels");
  return channels;
}

ConvBnReluImpl::ConvBnReluImpl(int in_channels, int out_channels, int kernel) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                                    .stride(1)
                                    .padding(kernel / 2)
                                    .bias(false)));
  bn = register_module("bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels)
                                                        .eps(kBnEpsilon)
                                                        .momentum(kBnMomentum)
                                                        .affine(true)
                                                        .track_running_stats(true)));
}

torch::Tensor ConvBnReluImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  auto y = tapped_output(conv2d(*conv, x), ctx);
  if (ctx.taps) {
    ctx.taps->weighted_output(conv->weight, y);
    ctx.taps->conv2d_io(*conv, x, y);
  }
  return tapped_relu(tapped_batchnorm(bn, y, ctx), ctx);
}

CellModuleImpl::CellModuleImpl(const Cell& pruned_cell, int input_channels, int output_channels)
    : cell_(pruned_cell),
      vertex_channels_(compute_vertex_channels(pruned_cell, input_channels, output_channels)),
      projections_(static_cast<size_t>(pruned_cell.num_vertices), ConvBnRelu(nullptr)),
      ops_(static_cast<size_t>(pruned_cell.num_vertices), ConvBnRelu(nullptr)) {
  const int out = cell_.num_vertices - 1;
  for (int v = 1; v <= out; ++v) {
    const auto vi = static_cast<size_t>(v);
    const std::string name = v == out ? "output" : "vertex" + std::to_string(v);
    if (cell_.has_edge(0, v))
      projections_[vi] = register_module(name + "_projection",
                                         ConvBnRelu(input_channels, vertex_channels_[vi], 1));
    if (v == out) break;
    const Op op = cell_.interior_ops[vi - 1];
    if (op == Op::Conv3x3 || op == Op::Conv1x1)
      // A vertex's input always has its own channel count (truncated or projected to it).
      ops_[vi] = register_module(
          name + "_op",
          ConvBnRelu(vertex_channels_[vi], vertex_channels_[vi], op == Op::Conv3x3 ? 3 : 1));
  }
}

torch::Tensor CellModuleImpl::forward(const torch::Tensor& x, const ForwardContext& ctx) {
  const int out = cell_.num_vertices - 1;
  std::vector<torch::Tensor> values(static_cast<size_t>(out));
  values[0] = x;
  std::vector<torch::Tensor> concat;
  for (int t = 1; t < out; ++t) {
    const auto ti = static_cast<size_t>(t);
    torch::Tensor sum;
    // Interior predecessors first, then the projected input: the order of build_module's add_in.
    for (int s = 1; s < t; ++s) {
      if (!cell_.has_edge(s, t)) continue;
      auto term = truncate(values[static_cast<size_t>(s)], vertex_channels_[ti]);
      sum = sum.defined() ? sum + term : term;
    }
    if (cell_.has_edge(0, t)) {
      auto term = projections_[ti]->forward(x, ctx);
      sum = sum.defined() ? sum + term : term;
    }
    NBZ_ASSERT(sum.defined(), "interior vertex without an input in a pruned cell");
    switch (cell_.interior_ops[ti - 1]) {
      case Op::Conv3x3:
      case Op::Conv1x1:
        values[ti] = ops_[ti]->forward(sum, ctx);
        break;
      case Op::MaxPool3x3:
        values[ti] = tapped_output(max_pool_3x3(sum), ctx);
        break;
    }
    if (cell_.has_edge(t, out)) concat.push_back(values[ti]);
  }
  const bool input_to_output = cell_.has_edge(0, out);
  if (concat.empty()) {
    NBZ_ASSERT(input_to_output, "cell output without any input");
    return tapped_output(projections_[static_cast<size_t>(out)]->forward(x, ctx), ctx);
  }
  auto result = concat.size() == 1 ? concat[0] : torch::cat(concat, 1);
  if (input_to_output) result = result + projections_[static_cast<size_t>(out)]->forward(x, ctx);
  return tapped_output(result, ctx);
}

NetworkImpl::NetworkImpl(const Cell& cell, const NetworkOptions& options)
    : cell_(prune(cell)), options_(options) {
  if (cell_.num_vertices > kMaxVertices || cell_.num_edges() > kMaxEdges)
    throw Error(describe(cell) + ": outside the NAS-Bench-101 space after pruning (" +
                std::to_string(cell_.num_vertices) + " vertices, " +
                std::to_string(cell_.num_edges()) + " edges; at most " +
                std::to_string(kMaxVertices) + " and " + std::to_string(kMaxEdges) + ")");
  if (options.num_classes <= 0 || options.stem_channels <= 0 || options.num_stacks <= 0 ||
      options.cells_per_stack <= 0)
    throw Error("NAS-Bench-101 network options must be positive (num_classes " +
                std::to_string(options.num_classes) + ", stem_channels " +
                std::to_string(options.stem_channels) + ", num_stacks " +
                std::to_string(options.num_stacks) + ", cells_per_stack " +
                std::to_string(options.cells_per_stack) + ")");

  stem_ = register_module("stem", ConvBnRelu(3, options.stem_channels, 3));
  int channels = options.stem_channels;
  for (int stack = 0; stack < options.num_stacks; ++stack) {
    const int in_channels = channels;
    if (stack > 0) channels *= 2;
    for (int i = 0; i < options.cells_per_stack; ++i) {
      cells_.push_back(register_module(
          "stack" + std::to_string(stack) + "_cell" + std::to_string(i),
          CellModule(cell_, i == 0 ? in_channels : channels, channels)));
    }
  }
  classifier_ =
      register_module("classifier", torch::nn::Linear(channels, options.num_classes));
}

torch::Tensor NetworkImpl::features(const torch::Tensor& x, const ForwardContext& ctx) {
  auto h = stem_->forward(x, ctx);
  size_t index = 0;
  for (int stack = 0; stack < options_.num_stacks; ++stack) {
    if (stack > 0) h = tapped_output(downsample(h), ctx);
    for (int i = 0; i < options_.cells_per_stack; ++i) h = cells_[index++]->forward(h, ctx);
  }
  return h;
}

torch::Tensor NetworkImpl::classify(const torch::Tensor& pooled, const ForwardContext& ctx) {
  return tapped_linear(classifier_, pooled, ctx);
}

}  // namespace nbz::nb101
