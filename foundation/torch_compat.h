// The one place where this code depends on the LibTorch version. It builds against Debian's
// LibTorch 1.13 (CPU; CI) and against the LibTorch of a pip PyTorch 2.x (CUDA; scripts/gpu_build.sh).
// Everything else uses the API common to both.
#pragma once

#include <torch/version.h>

#include <variant>

#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 1)
#include <c10/util/variant.h>
#endif

namespace nbz::torch_compat {

// Module options such as Conv2dOptions::padding() and padding_mode() hold a c10::variant up to
// PyTorch 2.0 and a std::variant since 2.1 (c10::get_if is gone there): overloads for both, the
// c10 one only where c10::variant exists as a type of its own.
template <typename T, typename... Ts>
const T* get_if(const std::variant<Ts...>* v) {
  return std::get_if<T>(v);
}
#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 1)
template <typename T, typename... Ts>
const T* get_if(const c10::variant<Ts...>* v) {
  return c10::get_if<T>(v);
}
#endif

}  // namespace nbz::torch_compat
