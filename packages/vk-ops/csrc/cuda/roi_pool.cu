// CUDA kernels of vk_ops::roi_pool and its backward: one thread per pooled output element.
#include "cuda/cuda_common.cuh"

namespace vk_ops {
namespace {

template <typename scalar_t>
__global__ void roi_pool_forward_kernel(const scalar_t* __restrict__ input, const scalar_t* __restrict__ rois,
                                        scalar_t* __restrict__ out, int32_t* __restrict__ argmax, int64_t total,
                                        int64_t batch, int64_t channels, int64_t height, int64_t width,
                                        int64_t pooled_h, int64_t pooled_w, at::opmath_type<scalar_t> scale) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(index, total) {
    const int64_t pw = index % pooled_w;
    const int64_t ph = (index / pooled_w) % pooled_h;
    const int64_t c = (index / pooled_w / pooled_h) % channels;
    const int64_t n = index / pooled_w / pooled_h / channels;
    A roi[5];
    for (int k = 0; k < 5; ++k) roi[k] = A(rois[n * 5 + k]);
    const int64_t b = static_cast<int64_t>(roi[0]);
    int64_t h0, h1, w0, w1;
    out[index] = scalar_t(0);
    argmax[index] = -1;
    if (b < 0 || b >= batch) continue;
    if (!roi_pool_bin(roi, scale, pooled_h, pooled_w, ph, pw, height, width, h0, h1, w0, w1)) continue;
    if (h1 <= h0 || w1 <= w0) continue;
    const scalar_t* src = input + (b * channels + c) * height * width;
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
    out[index] = scalar_t(best);
    argmax[index] = static_cast<int32_t>(best_i);
  }
}

template <typename scalar_t>
__global__ void roi_pool_backward_kernel(const scalar_t* __restrict__ grad_output, const scalar_t* __restrict__ rois,
                                         const int32_t* __restrict__ argmax,
                                         at::opmath_type<scalar_t>* __restrict__ grad_input, int64_t total,
                                         int64_t channels, int64_t plane, int64_t bins) {
  using A = at::opmath_type<scalar_t>;
  VK_CUDA_LOOP(index, total) {
    const int32_t at_ = argmax[index];
    if (at_ < 0) continue;
    const int64_t c = (index / bins) % channels;
    const int64_t n = index / bins / channels;
    const int64_t b = static_cast<int64_t>(A(rois[n * 5]));
    atomicAdd(grad_input + (b * channels + c) * plane + at_, A(grad_output[index]));
  }
}

std::tuple<at::Tensor, at::Tensor> roi_pool_cuda(const at::Tensor& input_, const at::Tensor& rois_, int64_t pooled_h,
                                                 int64_t pooled_w, double spatial_scale) {
  TORCH_CHECK_VALUE(input_.dim() == 4, "roi_pool: input must have shape (N, C, H, W), got ", input_.sizes());
  TORCH_CHECK_VALUE(rois_.dim() == 2 && rois_.size(1) == 5, "roi_pool: rois must have shape (K, 5), got ",
                    rois_.sizes());
  c10::cuda::CUDAGuard guard(input_.device());
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const int64_t num = rois.size(0), channels = input.size(1);
  auto output = at::zeros({num, channels, pooled_h, pooled_w}, input.options());
  auto argmax = at::full({num, channels, pooled_h, pooled_w}, -1, input.options().dtype(at::kInt));
  const int64_t total = output.numel();
  if (total == 0) return {output, argmax};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "roi_pool_cuda", [&] {
    roi_pool_forward_kernel<scalar_t><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        input.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), output.data_ptr<scalar_t>(),
        argmax.data_ptr<int32_t>(), total, input.size(0), channels, input.size(2), input.size(3), pooled_h, pooled_w,
        at::opmath_type<scalar_t>(spatial_scale));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return {output, argmax};
}

at::Tensor roi_pool_backward_cuda(const at::Tensor& grad_output_, const at::Tensor& rois_, const at::Tensor& argmax_,
                                  int64_t batch, int64_t channels, int64_t height, int64_t width) {
  c10::cuda::CUDAGuard guard(grad_output_.device());
  const auto grad_output = grad_output_.contiguous();
  const auto rois = rois_.contiguous();
  const auto argmax = argmax_.contiguous();
  const auto acc_type = at::toOpMathType(grad_output.scalar_type());
  auto grad_input = at::zeros({batch, channels, height, width}, grad_output.options().dtype(acc_type));
  const int64_t total = grad_output.numel();
  if (total == 0) return grad_input.to(grad_output.scalar_type());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "roi_pool_backward_cuda", [&] {
    using A = at::opmath_type<scalar_t>;
    roi_pool_backward_kernel<scalar_t><<<cuda::blocks_for(total), cuda::kThreads, 0, cuda::stream()>>>(
        grad_output.data_ptr<scalar_t>(), rois.data_ptr<scalar_t>(), argmax.data_ptr<int32_t>(),
        grad_input.data_ptr<A>(), total, channels, height * width, grad_output.size(2) * grad_output.size(3));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return grad_input.to(grad_output.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CUDA, m) {
  m.impl("roi_pool", &roi_pool_cuda);
  m.impl("roi_pool_backward", &roi_pool_backward_cuda);
}

}  // namespace vk_ops
