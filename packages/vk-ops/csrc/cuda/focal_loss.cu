// CUDA kernels of the focal losses: sigmoid is elementwise; softmax uses one thread per row (C is small,
// typically 80 or fewer classes).
#include <optional>

#include "cuda/cuda_common.cuh"

namespace vk_ops {
namespace {

template <typename scalar_t>
__device__ __forceinline__ at::opmath_type<scalar_t> row_weight(const scalar_t* weight, int64_t t, int64_t classes) {
  using A = at::opmath_type<scalar_t>;
  return (weight != nullptr && t >= 0 && t < classes) ? A(weight[t]) : A(1);
}

template <typename scalar_t, bool kGrad>
__global__ void sigmoid_focal_kernel(const scalar_t* __restrict__ x, const int64_t* __restrict__ target,
                                     const scalar_t* __restrict__ weight, scalar_t* __restrict__ out, int64_t total,
                                     int64_t classes, at::opmath_type<scalar_t> gamma,
                                     at::opmath_type<scalar_t> alpha) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(index, total) {
    const int64_t n = index / classes, c = index % classes;
    const int64_t t = target[n];
    const bool pos = t == c;
    const A v = A(x[index]);
    const A r = kGrad ? sigmoid_focal_grad(v, pos, gamma, alpha) : sigmoid_focal_value(v, pos, gamma, alpha);
    out[index] = scalar_t(r * row_weight(weight, t, classes));
  }
}

template <typename scalar_t, bool kGrad>
__global__ void softmax_focal_kernel(const scalar_t* __restrict__ x, const int64_t* __restrict__ target,
                                     const scalar_t* __restrict__ weight, scalar_t* __restrict__ out, int64_t rows,
                                     int64_t classes, at::opmath_type<scalar_t> gamma,
                                     at::opmath_type<scalar_t> alpha) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(i, rows) {
    const int64_t label = target[i];
    if (label < 0 || label >= classes) continue;  // ignored row; the output was zero-initialised
    const scalar_t* xi = x + i * classes;
    A mx = A(xi[0]);
    for (int64_t c = 1; c < classes; ++c) mx = vk_max(mx, A(xi[c]));
    A sum = A(0);
    for (int64_t c = 0; c < classes; ++c) sum += exp(A(xi[c]) - mx);
    const A pt = exp(A(xi[label]) - mx) / sum;
    const A w = row_weight(weight, label, classes);
    if (!kGrad) {
      out[i] = scalar_t(-alpha * pow(A(1) - pt, gamma) * log(flt_min_clamp(pt)) * w);
      continue;
    }
    const A buff = alpha * (-pow(A(1) - pt, gamma) + gamma * pow(A(1) - pt, gamma - A(1)) * pt * log(flt_min_clamp(pt))) * w;
    for (int64_t c = 0; c < classes; ++c) {
      const A p = exp(A(xi[c]) - mx) / sum;
      out[i * classes + c] = scalar_t(buff * (A(c == label ? 1 : 0) - p));
    }
  }
}

template <bool kSoftmax, bool kGrad>
at::Tensor focal_cuda(const at::Tensor& input_, const at::Tensor& target_, const std::optional<at::Tensor>& weight_,
                      double gamma, double alpha) {
  TORCH_CHECK_VALUE(input_.dim() == 2, "focal loss: input must have shape (N, C), got ", input_.sizes());
  TORCH_CHECK_VALUE(target_.dim() == 1 && target_.size(0) == input_.size(0) && target_.scalar_type() == at::kLong,
                    "focal loss: target must be (N,) int64 class indices");
  c10::cuda::CUDAGuard guard(input_.device());
  const auto input = input_.contiguous();
  const auto target = target_.contiguous();
  at::Tensor weight;
  if (weight_.has_value()) {
    TORCH_CHECK_VALUE(weight_->dim() == 1 && weight_->size(0) == input.size(1), "focal loss: weight must have shape (",
                      input.size(1), ",), got ", weight_->sizes());
    weight = weight_->to(input.scalar_type()).contiguous();
  }
  const int64_t rows = input.size(0), classes = input.size(1);
  at::Tensor out = (kSoftmax && !kGrad) ? at::zeros({rows}, input.options()) : at::zeros_like(input);
  if (rows == 0 || classes == 0) return out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "focal_cuda", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* w = weight.defined() ? weight.data_ptr<scalar_t>() : nullptr;
    if (kSoftmax) {
      softmax_focal_kernel<scalar_t, kGrad><<<cuda::blocks_for(rows), cuda::kThreads, 0, cuda::stream()>>>(
          input.data_ptr<scalar_t>(), target.data_ptr<int64_t>(), w, out.data_ptr<scalar_t>(), rows, classes,
          A(gamma), A(alpha));
    } else {
      sigmoid_focal_kernel<scalar_t, kGrad><<<cuda::blocks_for(rows * classes), cuda::kThreads, 0, cuda::stream()>>>(
          input.data_ptr<scalar_t>(), target.data_ptr<int64_t>(), w, out.data_ptr<scalar_t>(), rows * classes,
          classes, A(gamma), A(alpha));
    }
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CUDA, m) {
  m.impl("sigmoid_focal_loss", &focal_cuda<false, false>);
  m.impl("sigmoid_focal_loss_backward", &focal_cuda<false, true>);
  m.impl("softmax_focal_loss", &focal_cuda<true, false>);
  m.impl("softmax_focal_loss_backward", &focal_cuda<true, true>);
}

}  // namespace vk_ops
