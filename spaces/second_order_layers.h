#pragma once
// The networks' Conv2d and train-mode BatchNorm2d, for GraSP's sake. Forward and backward are
// LibTorch's own calls (at::convolution / at::convolution_backward, at::native_batch_norm /
// at::native_batch_norm_backward), so every value computed through them is bit-identical to
// torch::nn::Conv2d's and torch::nn::BatchNorm2d's. What is ours is their double backward on the
// CPU, which only GraSP's Hessian-gradient product takes:
// - Conv2d: LibTorch 1.13 forms the input term of the double backward with slow_conv_transpose2d
//   (no MKL-DNN path for it in 1.13; 3-7 times an equal convolution on the NB201 shapes) and the
//   weight term with a batch-transposed convolution. Both terms are the input and weight
//   gradients of a convolution, so here they are at::convolution_backward, MKL-DNN's kernels.
// - BatchNorm2d (train mode): LibTorch's batchnorm_double_backward is some thirty whole-tensor
//   operations; here it is one pass for the five per-channel sums and one for the two outputs.
// Both agree with LibTorch's double backward to float rounding (float64 to 1e-10, tested), not to
// the bit (docs/decisions.md, "GraSP's double backward"). On other devices, and where a layer is
// configured otherwise than the search spaces' (bias, named padding, eval mode, no momentum),
// the module's own forward.
#include <torch/torch.h>

namespace nbz {

// conv.forward(x), with the double backward above.
torch::Tensor conv2d(torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

// bn.forward(x) (running statistics and num_batches_tracked updated the same way), with the
// double backward above in train mode.
torch::Tensor batch_norm2d(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);

}  // namespace nbz
