// CPU kernels of vk_ops::roi_pool (max pooling over integer bins, MMCV semantics) and its backward.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "common/geometry.h"

namespace vk_ops {
namespace {

std::tuple<at::Tensor, at::Tensor> roi_pool_cpu(const at::Tensor& input_, const at::Tensor& rois_, int64_t pooled_h,
                                                int64_t pooled_w, double spatial_scale) {
  TORCH_CHECK(input_.dim() == 4, "roi_pool: input must have shape (N, C, H, W), got ", input_.sizes());
  TORCH_CHECK(rois_.dim() == 2 && rois_.size(1) == 5, "roi_pool: rois must have shape (K, 5), got ", rois_.sizes());
  TORCH_CHECK(input_.scalar_type() == rois_.scalar_type(), "roi_pool: input is ", input_.scalar_type(),
              " but rois are ", rois_.scalar_type());
  TORCH_CHECK(pooled_h > 0 && pooled_w > 0, "roi_pool: output_size must be positive, got (", pooled_h, ", ", pooled_w,
              ")");
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const int64_t num = rois.size(0), batch = input.size(0), channels = input.size(1);
  const int64_t height = input.size(2), width = input.size(3);
  auto output = at::zeros({num, channels, pooled_h, pooled_w}, input.options());
  auto argmax = at::full({num, channels, pooled_h, pooled_w}, -1, input.options().dtype(at::kInt));
  if (num == 0 || channels == 0) return {output, argmax};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "roi_pool_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* in = input.data_ptr<scalar_t>();
    const scalar_t* r = rois.data_ptr<scalar_t>();
    for (int64_t n = 0; n < num; ++n) {
      const int64_t b = static_cast<int64_t>(A(r[n * 5]));
      TORCH_CHECK_VALUE(b >= 0 && b < batch, "roi_pool: rois[", n, ", 0] = ", b,
                  " is not a batch index of the input (batch size ", batch, ")");
    }
    scalar_t* out = output.data_ptr<scalar_t>();
    int32_t* am = argmax.data_ptr<int32_t>();
    const A scale = A(spatial_scale);
    const int64_t bins = pooled_h * pooled_w, plane = height * width;
    at::parallel_for(0, num * channels, 16, [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const int64_t n = nc / channels, c = nc % channels;
        A roi[5];
        for (int k = 0; k < 5; ++k) roi[k] = A(r[n * 5 + k]);
        const scalar_t* src = in + (static_cast<int64_t>(roi[0]) * channels + c) * plane;
        for (int64_t ph = 0; ph < pooled_h; ++ph) {
          for (int64_t pw = 0; pw < pooled_w; ++pw) {
            int64_t h0, h1, w0, w1;
            const int64_t o = nc * bins + ph * pooled_w + pw;
            if (!roi_pool_bin(roi, scale, pooled_h, pooled_w, ph, pw, height, width, h0, h1, w0, w1)) continue;
            if (h1 <= h0 || w1 <= w0) continue;  // empty bin: 0, no gradient
            A best = A(-3.402823466e+38f);
            int64_t best_i = -1;
            for (int64_t h = h0; h < h1; ++h) {
              for (int64_t w = w0; w < w1; ++w) {
                const A v = A(src[h * width + w]);
                if (v > best) {
                  best = v;
                  best_i = h * width + w;
                }
              }
            }
            out[o] = scalar_t(best);
            am[o] = static_cast<int32_t>(best_i);
          }
        }
      }
    });
  });
  return {output, argmax};
}

at::Tensor roi_pool_backward_cpu(const at::Tensor& grad_output_, const at::Tensor& rois_, const at::Tensor& argmax_,
                                 int64_t batch, int64_t channels, int64_t height, int64_t width) {
  TORCH_CHECK(grad_output_.sizes() == argmax_.sizes(), "roi_pool_backward: grad_output ", grad_output_.sizes(),
              " and argmax ", argmax_.sizes(), " must have the same shape");
  const auto grad_output = grad_output_.contiguous();
  const auto rois = rois_.contiguous();
  const auto argmax = argmax_.contiguous();
  const auto acc_type = at::toOpMathType(grad_output.scalar_type());
  auto grad_input = at::zeros({batch, channels, height, width}, grad_output.options().dtype(acc_type));
  const int64_t num = rois.size(0);
  if (num == 0 || channels == 0) return grad_input.to(grad_output.scalar_type());
  const int64_t bins = grad_output.size(2) * grad_output.size(3), plane = height * width;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "roi_pool_backward_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* go = grad_output.data_ptr<scalar_t>();
    const scalar_t* r = rois.data_ptr<scalar_t>();
    const int32_t* am = argmax.data_ptr<int32_t>();
    A* gi = grad_input.data_ptr<A>();
    at::parallel_for(0, channels, 8, [&](int64_t c_begin, int64_t c_end) {
      for (int64_t n = 0; n < num; ++n) {
        const int64_t b = static_cast<int64_t>(A(r[n * 5]));
        for (int64_t c = c_begin; c < c_end; ++c) {
          A* dst = gi + (b * channels + c) * plane;
          const int64_t o = (n * channels + c) * bins;
          for (int64_t k = 0; k < bins; ++k) {
            if (am[o + k] >= 0) dst[am[o + k]] += A(go[o + k]);
          }
        }
      }
    });
  });
  return grad_input.to(grad_output.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CPU, m) {
  m.impl("roi_pool", &roi_pool_cpu);
  m.impl("roi_pool_backward", &roi_pool_backward_cpu);
}

}  // namespace vk_ops
