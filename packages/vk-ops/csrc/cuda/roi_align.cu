// CUDA kernels of vk_ops::roi_align and its backward: one thread per pooled output element; the backward
// scatters with atomicAdd into a float (or double) buffer. Invalid RoIs (batch index out of range, negative
// size with aligned=True) give zeros instead of raising: checking them would cost a device synchronisation.
#include "cuda/cuda_common.cuh"

namespace vk_ops {
namespace {

constexpr double kNoArgmax = -2.0;  // outside the sampling range, like the CPU kernel

template <typename scalar_t>
__global__ void roi_align_forward_kernel(const scalar_t* __restrict__ input, const scalar_t* __restrict__ rois,
                                         scalar_t* __restrict__ out, scalar_t* __restrict__ argmax_y,
                                         scalar_t* __restrict__ argmax_x, int64_t total, int64_t batch,
                                         int64_t channels, int64_t height, int64_t width, int64_t pooled_h,
                                         int64_t pooled_w, at::opmath_type<scalar_t> scale, int64_t sampling_ratio,
                                         bool is_max, bool aligned) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(index, total) {
    const int64_t pw = index % pooled_w;
    const int64_t ph = (index / pooled_w) % pooled_h;
    const int64_t c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    A roi[5];
    for (int k = 0; k < 5; ++k) roi[k] = A(rois[n * 5 + k]);
    const auto g = roi_align_geometry(roi, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    if (g.batch < 0 || g.batch >= batch || g.negative) {
      out[index] = scalar_t(0);
      if (is_max) argmax_y[index] = argmax_x[index] = scalar_t(kNoArgmax);
      continue;
    }
    const scalar_t* src = input + (g.batch * channels + c) * height * width;
    A acc = A(0), best = A(-10000), best_y = A(kNoArgmax), best_x = A(kNoArgmax);
    for (int64_t iy = 0; iy < g.grid_h; ++iy) {
      const A y = roi_sample_y(g, ph, iy);
      for (int64_t ix = 0; ix < g.grid_w; ++ix) {
        const A x = roi_sample_x(g, pw, ix);
        BilinearSample<A> s;
        bilinear_coeffs(height, width, y, x, s);
        const A v = s.w1 * A(src[s.p1]) + s.w2 * A(src[s.p2]) + s.w3 * A(src[s.p3]) + s.w4 * A(src[s.p4]);
        if (is_max) {
          if (v > best) {
            best = v;
            best_y = y;
            best_x = x;
          }
        } else {
          acc += v;
        }
      }
    }
    if (is_max) {
      out[index] = scalar_t(best);
      argmax_y[index] = scalar_t(best_y);
      argmax_x[index] = scalar_t(best_x);
    } else {
      out[index] = scalar_t(acc / g.count);
    }
  }
}

template <typename scalar_t>
__global__ void roi_align_backward_kernel(const scalar_t* __restrict__ grad_output, const scalar_t* __restrict__ rois,
                                          const scalar_t* __restrict__ argmax_y, const scalar_t* __restrict__ argmax_x,
                                          at::opmath_type<scalar_t>* __restrict__ grad_input, int64_t total,
                                          int64_t batch, int64_t channels, int64_t height, int64_t width,
                                          int64_t pooled_h, int64_t pooled_w, at::opmath_type<scalar_t> scale,
                                          int64_t sampling_ratio, bool is_max, bool aligned) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(index, total) {
    const int64_t pw = index % pooled_w;
    const int64_t ph = (index / pooled_w) % pooled_h;
    const int64_t c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    A roi[5];
    for (int k = 0; k < 5; ++k) roi[k] = A(rois[n * 5 + k]);
    const auto g = roi_align_geometry(roi, scale, pooled_h, pooled_w, sampling_ratio, aligned);
    if (g.batch < 0 || g.batch >= batch || g.negative) continue;
    A* dst = grad_input + (g.batch * channels + c) * height * width;
    const A grad = A(grad_output[index]);
    BilinearSample<A> s;
    if (is_max) {
      if (!bilinear_coeffs(height, width, A(argmax_y[index]), A(argmax_x[index]), s)) continue;
      atomicAdd(dst + s.p1, grad * s.w1);
      atomicAdd(dst + s.p2, grad * s.w2);
      atomicAdd(dst + s.p3, grad * s.w3);
      atomicAdd(dst + s.p4, grad * s.w4);
      continue;
    }
    const A share = grad / g.count;
    for (int64_t iy = 0; iy < g.grid_h; ++iy) {
      const A y = roi_sample_y(g, ph, iy);
      for (int64_t ix = 0; ix < g.grid_w; ++ix) {
        if (!bilinear_coeffs(height, width, y, roi_sample_x(g, pw, ix), s)) continue;
        atomicAdd(dst + s.p1, share * s.w1);
        atomicAdd(dst + s.p2, share * s.w2);
        atomicAdd(dst + s.p3, share * s.w3);
        atomicAdd(dst + s.p4, share * s.w4);
      }
    }
  }
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> roi_align_cuda(const at::Tensor& input_, const at::Tensor& rois_,
                                                              int64_t pooled_h, int64_t pooled_w,
                                                              double spatial_scale, int64_t sampling_ratio,
                                                              int64_t pool_mode, bool aligned) {
  TORCH_CHECK_VALUE(input_.dim() == 4, "roi_align: input must have shape (N, C, H, W), got ", input_.sizes());
  TORCH_CHECK_VALUE(rois_.dim() == 2 && rois_.size(1) == 5, "roi_align: rois must have shape (K, 5), got ",
                    rois_.sizes());
  TORCH_CHECK_VALUE(pooled_h > 0 && pooled_w > 0, "roi_align: output_size must be positive");
  c10::cuda::CUDAGuard guard(input_.device());
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const int64_t num = rois.size(0), channels = input.size(1);
  const bool is_max = pool_mode == 0;
  auto output = at::zeros({num, channels, pooled_h, pooled_w}, input.options());
  auto argmax_y = is_max ? at::full({num, channels, pooled_h, pooled_w}, kNoArgmax, input.options())
                         : at::empty({0}, input.options());
  auto argmax_x = is_max ? at::full({num, channels, pooled_h, pooled_w}, kNoArgmax, input.options())
                         : at::empty({0}, input.options());
  const int64_t total = output.numel();
  if (total == 0) return {output, argmax_y, argmax_x};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "roi_align_cuda", [&] {
    roi_align_forward_kernel<scalar_t><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        input.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), output.data_ptr<scalar_t>(),
        is_max ? argmax_y.data_ptr<scalar_t>() : nullptr, is_max ? argmax_x.data_ptr<scalar_t>() : nullptr, total,
        input.size(0), channels, input.size(2), input.size(3), pooled_h, pooled_w,
        at::opmath_type<scalar_t>(spatial_scale), sampling_ratio, is_max, aligned);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {output, argmax_y, argmax_x};
}

at::Tensor roi_align_backward_cuda(const at::Tensor& grad_output_, const at::Tensor& rois_, const at::Tensor& argmax_y,
                                   const at::Tensor& argmax_x, int64_t batch, int64_t channels, int64_t height,
                                   int64_t width, double spatial_scale, int64_t sampling_ratio, int64_t pool_mode,
                                   bool aligned) {
  c10::cuda::CUDAGuard guard(grad_output_.device());
  const auto grad_output = grad_output_.contiguous();
  const auto rois = rois_.contiguous();
  const bool is_max = pool_mode == 0;
  const auto ay = argmax_y.contiguous();
  const auto ax = argmax_x.contiguous();
  const auto acc_type = at::toOpMathType(grad_output.scalar_type());
  auto grad_input = at::zeros({batch, channels, height, width}, grad_output.options().dtype(acc_type));
  const int64_t total = grad_output.numel();
  if (total == 0) return grad_input.to(grad_output.scalar_type());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "roi_align_backward_cuda", [&] {
    using A = at::opmath_type<scalar_t>;
    roi_align_backward_kernel<scalar_t><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        grad_output.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), is_max ? ay.data_ptr<scalar_t>() : nullptr,
        is_max ? ax.data_ptr<scalar_t>() : nullptr, grad_input.data_ptr<A>(), total, batch, channels, height, width,
        grad_output.size(2), grad_output.size(3), A(spatial_scale), sampling_ratio, is_max, aligned);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return grad_input.to(grad_output.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CUDA, m) {
  m.impl("roi_align", &roi_align_cuda);
  m.impl("roi_align_backward", &roi_align_backward_cuda);
}

}  // namespace vk_ops
