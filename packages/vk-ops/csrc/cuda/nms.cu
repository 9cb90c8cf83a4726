// CUDA kernel of vk_ops::nms: the blocked bitmask algorithm. The GPU computes, for every box i and block of 64
// later boxes, which of them box i would suppress; the host then walks the boxes in score order once, OR-ing
// the masks of the boxes it keeps. Compiled with --fmad=false so that IoUs round exactly as on the CPU.
#include <ATen/ops/arange.h>
#include <ATen/ops/sort.h>

#include <vector>

#include "cuda/cuda_common.cuh"

namespace vk_ops {
namespace {

constexpr int kMaskBits = 64;

template <typename T>
__global__ void nms_mask_kernel(const T* __restrict__ boxes, int64_t n, int64_t col_blocks, T thr, T off,
                                uint64_t* __restrict__ mask) {
  const int64_t row_block = blockIdx.y, col_block = blockIdx.x;
  if (row_block > col_block) return;
  const int row_size = static_cast<int>(min(n - row_block * kMaskBits, int64_t(kMaskBits)));
  const int col_size = static_cast<int>(min(n - col_block * kMaskBits, int64_t(kMaskBits)));
  __shared__ T cols[kMaskBits * 5];
  if (threadIdx.x < col_size) {
    const T* b = boxes + (col_block * kMaskBits + threadIdx.x) * 4;
    cols[threadIdx.x * 5 + 0] = b[0];
    cols[threadIdx.x * 5 + 1] = b[1];
    cols[threadIdx.x * 5 + 2] = b[2];
    cols[threadIdx.x * 5 + 3] = b[3];
    cols[threadIdx.x * 5 + 4] = (b[2] - b[0] + off) * (b[3] - b[1] + off);
  }
  __syncthreads();
  if (threadIdx.x >= row_size) return;
  const int64_t i = row_block * kMaskBits + threadIdx.x;
  const T* a = boxes + i * 4;
  const T area = (a[2] - a[0] + off) * (a[3] - a[1] + off);
  uint64_t bits = 0;
  const int start = row_block == col_block ? threadIdx.x + 1 : 0;
  for (int k = start; k < col_size; ++k) {
    const T* c = cols + k * 5;
    if (iou_of(a[0], a[1], a[2], a[3], area, c[0], c[1], c[2], c[3], c[4], off) > thr) bits |= uint64_t(1) << k;
  }
  mask[i * col_blocks + col_block] = bits;
}

at::Tensor nms_cuda(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold, int64_t offset,
                    double score_threshold, int64_t max_num) {
  TORCH_CHECK_VALUE(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must have shape (N, 4), got ", boxes.sizes());
  TORCH_CHECK_VALUE(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must have shape (",
                    boxes.size(0), ",) to match boxes, got ", scores.sizes());
  TORCH_CHECK_VALUE(offset == 0 || offset == 1, "nms: offset must be 0 or 1, got ", offset);
  c10::cuda::CUDAGuard guard(boxes.device());
  auto long_opts = boxes.options().dtype(at::kLong);
  if (boxes.size(0) == 0 || max_num == 0) return at::empty({0}, long_opts);
  const auto compute_type = at::toOpMathType(boxes.scalar_type());
  // Stable descending sort: equal scores keep their input order (the documented tie rule).
  auto sorted = scores.to(compute_type).sort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  at::Tensor order = std::get<1>(sorted);
  if (score_threshold > 0) {
    // Sorted, so the boxes above the threshold are a prefix.
    const int64_t count = std::get<0>(sorted).gt(score_threshold).sum().item<int64_t>();
    order = order.slice(0, 0, count);
  }
  const int64_t n = order.size(0);
  if (n == 0) return at::empty({0}, long_opts);
  const auto ordered = boxes.index_select(0, order).to(compute_type).contiguous();
  const int64_t col_blocks = (n + kMaskBits - 1) / kMaskBits;
  auto mask = at::empty({n, col_blocks}, long_opts);
  AT_DISPATCH_FLOATING_TYPES(ordered.scalar_type(), "nms_cuda", [&] {
    const dim3 grid(static_cast<unsigned int>(col_blocks), static_cast<unsigned int>(col_blocks));
    nms_mask_kernel<scalar_t><<<grid, kMaskBits, 0, cuda::stream()>>>(
        ordered.data_ptr<scalar_t>(), n, col_blocks, static_cast<scalar_t>(iou_threshold),
        static_cast<scalar_t>(offset), reinterpret_cast<uint64_t*>(mask.data_ptr<int64_t>()));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  const auto mask_host = mask.to(at::kCPU);
  const uint64_t* m = reinterpret_cast<const uint64_t*>(mask_host.data_ptr<int64_t>());
  std::vector<uint64_t> removed(col_blocks, 0);
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t block = i / kMaskBits;
    if (removed[block] & (uint64_t(1) << (i % kMaskBits))) continue;
    keep.push_back(i);
    if (max_num > 0 && static_cast<int64_t>(keep.size()) >= max_num) break;
    const uint64_t* row = m + i * col_blocks;
    for (int64_t j = block; j < col_blocks; ++j) removed[j] |= row[j];
  }
  auto keep_cpu = at::empty({static_cast<int64_t>(keep.size())}, at::TensorOptions().dtype(at::kLong));
  std::copy(keep.begin(), keep.end(), keep_cpu.data_ptr<int64_t>());
  return order.index_select(0, keep_cpu.to(boxes.device(), /*non_blocking=*/false));
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CUDA, m) { m.impl("nms", &nms_cuda); }

}  // namespace vk_ops
