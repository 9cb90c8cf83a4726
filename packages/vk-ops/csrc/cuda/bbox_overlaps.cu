// CUDA kernel of vk_ops::bbox_overlaps: one thread per output element, same arithmetic as the CPU kernel.
#include <string>

#include "cuda/cuda_common.cuh"

namespace vk_ops {
namespace {

template <typename scalar_t>
__global__ void bbox_overlaps_kernel(const scalar_t* __restrict__ a, const scalar_t* __restrict__ b,
                                     scalar_t* __restrict__ out, int64_t rows, int64_t cols, int mode, bool aligned,
                                     int offset) {
  using acc_t = at::opmath_type<scalar_t>;
  const int64_t total = aligned ? rows : rows * cols;
  VK_CUDA_LOOP(index, total) {
    const int64_t i = aligned ? index : index / cols;
    const int64_t j = aligned ? index : index % cols;
    const acc_t off = acc_t(offset), eps = acc_t(1e-6);
    const acc_t ax1 = a[i * 4], ay1 = a[i * 4 + 1], ax2 = a[i * 4 + 2], ay2 = a[i * 4 + 3];
    const acc_t bx1 = b[j * 4], by1 = b[j * 4 + 1], bx2 = b[j * 4 + 2], by2 = b[j * 4 + 3];
    const acc_t area_a = (ax2 - ax1 + off) * (ay2 - ay1 + off);
    const acc_t area_b = (bx2 - bx1 + off) * (by2 - by1 + off);
    const acc_t w = vk_max(vk_min(ax2, bx2) - vk_max(ax1, bx1) + off, acc_t(0));
    const acc_t h = vk_max(vk_min(ay2, by2) - vk_max(ay1, by1) + off, acc_t(0));
    const acc_t inter = w * h;
    acc_t result;
    if (mode == 1) {
      result = inter / vk_max(area_a, eps);
    } else {
      const acc_t uni = vk_max(area_a + area_b - inter, eps);
      result = inter / uni;
      if (mode == 2) {
        const acc_t ew = vk_max(vk_max(ax2, bx2) - vk_min(ax1, bx1) + off, acc_t(0));
        const acc_t eh = vk_max(vk_max(ay2, by2) - vk_min(ay1, by1) + off, acc_t(0));
        const acc_t enclose = vk_max(ew * eh, eps);
        result = result - (enclose - uni) / enclose;
      }
    }
    out[index] = scalar_t(result);
  }
}

at::Tensor bbox_overlaps_cuda(const at::Tensor& bboxes1, const at::Tensor& bboxes2, c10::string_view mode_name,
                              bool aligned, int64_t offset) {
  TORCH_CHECK_VALUE(bboxes1.dim() == 2 && bboxes1.size(1) == 4, "bbox_overlaps: bboxes1 must have shape (N, 4), got ",
                    bboxes1.sizes());
  TORCH_CHECK_VALUE(bboxes2.dim() == 2 && bboxes2.size(1) == 4, "bbox_overlaps: bboxes2 must have shape (M, 4), got ",
                    bboxes2.sizes());
  int mode = -1;
  if (mode_name == "iou") mode = 0;
  if (mode_name == "iof") mode = 1;
  if (mode_name == "giou") mode = 2;
  TORCH_CHECK_VALUE(mode >= 0, "bbox_overlaps: mode must be 'iou', 'iof' or 'giou', got '", std::string(mode_name), "'");
  const int64_t rows = bboxes1.size(0), cols = bboxes2.size(0);
  if (aligned) {
    TORCH_CHECK_VALUE(rows == cols, "bbox_overlaps: aligned=True needs as many boxes in bboxes1 (", rows,
                      ") as in bboxes2 (", cols, ")");
  }
  c10::cuda::CUDAGuard guard(bboxes1.device());
  const auto a = bboxes1.contiguous();
  const auto b = bboxes2.contiguous();
  auto out = aligned ? at::empty({rows}, a.options()) : at::empty({rows, cols}, a.options());
  if (out.numel() == 0) return out;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, a.scalar_type(), "bbox_overlaps_cuda", [&] {
    bbox_overlaps_kernel<scalar_t><<<cuda::blocks_for(out.numel()), cuda::kThreads, 0, cuda::stream()>>>(
        a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), out.data_ptr<scalar_t>(), rows, cols, mode, aligned,
        static_cast<int>(offset));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CUDA, m) { m.impl("bbox_overlaps", &bbox_overlaps_cuda); }

}  // namespace vk_ops
