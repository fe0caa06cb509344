#pragma once
// The two 3x3, stride 1, padding 1 poolings of the cells: NAS-Bench-201's avg_pool_3x3 and
// NAS-Bench-101's maxpool3x3. LibTorch 1.13's CPU avg_pool2d and max_pool2d are slower than a 3x3
// convolution of the same tensor, and every proxy pass goes through them, so on the CPU (float,
// double, 4-d input) both are stencils of our own, written to compute exactly LibTorch's values
// in LibTorch's order: forward, backward and double backward are bit-identical to the native
// functions (tests/pooling_3x3_test.cpp), so switching between the two changes no stored score.
// On any other device or dtype they call the native functions.
#include <torch/torch.h>

namespace nbz {

// 3x3 average, the padding not counted (count_include_pad = false), as
// torch::avg_pool2d(x, 3, 1, 1, false, false).
torch::Tensor avg_pool_3x3(const torch::Tensor& x);

// 3x3 max, the padding never winning (TF 'same'), as torch::max_pool2d(x, 3, 1, 1): LibTorch's
// tie and NaN rules (the first input of the window in row-major order, then a later one when
// strictly greater or NaN); gradients added to the argmax in output order.
torch::Tensor max_pool_3x3(const torch::Tensor& x);

}  // namespace nbz
