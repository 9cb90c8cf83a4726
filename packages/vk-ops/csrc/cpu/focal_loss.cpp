// CPU kernels of the sigmoid and softmax focal losses (unreduced) and their input gradients, MMCV formulas.
//
// Target convention: target[n] in [0, C) is the class of row n; any other value (e.g. C for background in
// the sigmoid loss, -1 for "ignore" in the softmax loss) marks no positive class. The optional per-class
// weight (C,) scales row n by weight[target[n]] when target[n] is a class, and by 1 otherwise.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <optional>
#include <vector>

#include "common/geometry.h"

namespace vk_ops {
namespace {

void check_focal(const char* op, const at::Tensor& input, const at::Tensor& target,
                 const std::optional<at::Tensor>& weight) {
  TORCH_CHECK(input.dim() == 2, op, ": input must have shape (N, C), got ", input.sizes());
  TORCH_CHECK(target.dim() == 1 && target.size(0) == input.size(0), op, ": target must have shape (", input.size(0),
              ",), got ", target.sizes());
  TORCH_CHECK(target.scalar_type() == at::kLong, op, ": target must be int64 class indices, got ",
              target.scalar_type());
  if (weight.has_value()) {
    TORCH_CHECK(weight->dim() == 1 && weight->size(0) == input.size(1), op, ": weight must have shape (",
                input.size(1), ",), got ", weight->sizes());
  }
}

// Per-row weight as the accumulation type, 1 where the target is not a class.
template <typename A>
std::vector<A> row_weights(const at::Tensor& target, const std::optional<at::Tensor>& weight, int64_t classes) {
  const int64_t n = target.size(0);
  std::vector<A> w(n, A(1));
  if (!weight.has_value()) return w;
  const auto wt = weight->to(at::CppTypeToScalarType<A>::value).contiguous();
  const A* pw = wt.template data_ptr<A>();
  const int64_t* t = target.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    if (t[i] >= 0 && t[i] < classes) w[i] = pw[t[i]];
  }
  return w;
}

template <bool kGrad>
at::Tensor sigmoid_focal_impl(const at::Tensor& input_, const at::Tensor& target_,
                              const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  check_focal(kGrad ? "sigmoid_focal_loss_backward" : "sigmoid_focal_loss", input_, target_, weight);
  const auto input = input_.contiguous();
  const auto target = target_.contiguous();
  auto out = at::empty_like(input);
  const int64_t rows = input.size(0), classes = input.size(1);
  if (out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "sigmoid_focal_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const auto w = row_weights<A>(target, weight, classes);
    const scalar_t* x = input.data_ptr<scalar_t>();
    const int64_t* t = target.data_ptr<int64_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    const A g = A(gamma), a = A(alpha);
    at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / std::max<int64_t>(classes, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        for (int64_t c = 0; c < classes; ++c) {
          const A v = A(x[i * classes + c]);
          const bool pos = t[i] == c;
          const A r = kGrad ? sigmoid_focal_grad(v, pos, g, a) : sigmoid_focal_value(v, pos, g, a);
          o[i * classes + c] = scalar_t(r * w[i]);
        }
      }
    });
  });
  return out;
}

at::Tensor sigmoid_focal_loss_cpu(const at::Tensor& input, const at::Tensor& target,
                                  const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  return sigmoid_focal_impl<false>(input, target, weight, gamma, alpha);
}

at::Tensor sigmoid_focal_loss_backward_cpu(const at::Tensor& input, const at::Tensor& target,
                                           const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  return sigmoid_focal_impl<true>(input, target, weight, gamma, alpha);
}

// Softmax focal loss: loss_n = -alpha (1 - p_t)^gamma log(p_t) with p = softmax(input_n); the gradient row is
// alpha (gamma (1 - p_t)^(gamma - 1) p_t log(p_t) - (1 - p_t)^gamma) (onehot_t - p).
//
// Whole-matrix work goes to ATen's vectorised softmax (one fused pass; at::logsumexp is several) and only
// per-row scalars are computed here. The gradient then is one in-place scale of the probabilities by -factor_n
// and factor_n added at each row's target.
template <bool kGrad>
at::Tensor softmax_focal_impl(const at::Tensor& input_, const at::Tensor& target_,
                              const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  check_focal(kGrad ? "softmax_focal_loss_backward" : "softmax_focal_loss", input_, target_, weight);
  const auto input = input_.contiguous();
  const auto target = target_.contiguous();
  const int64_t rows = input.size(0), classes = input.size(1);
  if (rows == 0 || classes == 0) return kGrad ? at::zeros_like(input) : at::zeros({rows}, input.options());
  const auto x = input.to(at::toOpMathType(input.scalar_type())).contiguous();
  auto prob = at::softmax(x, 1).contiguous();
  auto factor = at::empty({rows}, x.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "softmax_focal_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const auto w = row_weights<A>(target, weight, classes);
    const A* p = prob.template data_ptr<A>();
    const int64_t* t = target.data_ptr<int64_t>();
    A* f = factor.template data_ptr<A>();
    const A g = A(gamma), a = A(alpha);
    at::parallel_for(0, rows, 2048, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t label = t[i];
        if (label < 0 || label >= classes) {  // ignored row: zero loss and gradient
          f[i] = A(0);
          continue;
        }
        const A pt = p[i * classes + label];
        const A log_pt = std::log(flt_min_clamp(pt));
        f[i] = kGrad ? a * (-pow_gamma(A(1) - pt, g) + g * pow_gamma(A(1) - pt, g - A(1)) * pt * log_pt) * w[i]
                     : -a * pow_gamma(A(1) - pt, g) * log_pt * w[i];
      }
    });
    if (!kGrad) return;
    prob.mul_(factor.neg().unsqueeze(1));
    A* grad = prob.template data_ptr<A>();
    at::parallel_for(0, rows, 8192, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        if (t[i] >= 0 && t[i] < classes) grad[i * classes + t[i]] += f[i];
      }
    });
  });
  return (kGrad ? prob : factor).to(input.scalar_type());
}

at::Tensor softmax_focal_loss_cpu(const at::Tensor& input, const at::Tensor& target,
                                  const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  return softmax_focal_impl<false>(input, target, weight, gamma, alpha);
}

at::Tensor softmax_focal_loss_backward_cpu(const at::Tensor& input, const at::Tensor& target,
                                           const std::optional<at::Tensor>& weight, double gamma, double alpha) {
  return softmax_focal_impl<true>(input, target, weight, gamma, alpha);
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CPU, m) {
  m.impl("sigmoid_focal_loss", &sigmoid_focal_loss_cpu);
  m.impl("sigmoid_focal_loss_backward", &sigmoid_focal_loss_backward_cpu);
  m.impl("softmax_focal_loss", &softmax_focal_loss_cpu);
  m.impl("softmax_focal_loss_backward", &softmax_focal_loss_backward_cpu);
}

}  // namespace vk_ops
