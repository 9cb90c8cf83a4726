// CPU kernel of vk_ops::bbox_overlaps: IoU / IoF / GIoU between boxes (x1, y1, x2, y2).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <string>
#include <vector>

namespace vk_ops {
namespace {

enum class OverlapMode { kIoU, kIoF, kGIoU };

OverlapMode parse_mode(c10::string_view mode) {
  if (mode == "iou") return OverlapMode::kIoU;
  if (mode == "iof") return OverlapMode::kIoF;
  if (mode == "giou") return OverlapMode::kGIoU;
  TORCH_CHECK(false, "bbox_overlaps: mode must be 'iou', 'iof' or 'giou', got '", std::string(mode), "'");
}

template <typename scalar_t>
inline scalar_t overlap(const scalar_t* a, const scalar_t* b, OverlapMode mode, scalar_t offset) {
  // Clamping the denominator keeps degenerate (zero-area) boxes at 0 instead of NaN.
  const scalar_t eps = scalar_t(1e-6);
  const scalar_t area_a = (a[2] - a[0] + offset) * (a[3] - a[1] + offset);
  const scalar_t area_b = (b[2] - b[0] + offset) * (b[3] - b[1] + offset);
  const scalar_t w = std::max(std::min(a[2], b[2]) - std::max(a[0], b[0]) + offset, scalar_t(0));
  const scalar_t h = std::max(std::min(a[3], b[3]) - std::max(a[1], b[1]) + offset, scalar_t(0));
  const scalar_t inter = w * h;
  if (mode == OverlapMode::kIoF) return inter / std::max(area_a, eps);
  const scalar_t uni = std::max(area_a + area_b - inter, eps);
  const scalar_t iou = inter / uni;
  if (mode == OverlapMode::kIoU) return iou;
  const scalar_t ew = std::max(std::max(a[2], b[2]) - std::min(a[0], b[0]) + offset, scalar_t(0));
  const scalar_t eh = std::max(std::max(a[3], b[3]) - std::min(a[1], b[1]) + offset, scalar_t(0));
  const scalar_t enclose = std::max(ew * eh, eps);
  return iou - (enclose - uni) / enclose;
}

// One row of the (N, M) matrix: box a against every column box, branch-free so that it vectorises.
template <OverlapMode M, typename acc_t, typename scalar_t>
void overlap_row(acc_t ax1, acc_t ay1, acc_t ax2, acc_t ay2, const acc_t* __restrict__ bx1,
                 const acc_t* __restrict__ by1, const acc_t* __restrict__ bx2, const acc_t* __restrict__ by2,
                 const acc_t* __restrict__ barea, int64_t cols, acc_t off, scalar_t* __restrict__ out) {
  const acc_t eps = acc_t(1e-6);
  const acc_t area_a = (ax2 - ax1 + off) * (ay2 - ay1 + off);
  for (int64_t j = 0; j < cols; ++j) {
    const acc_t iw = std::min(ax2, bx2[j]) - std::max(ax1, bx1[j]) + off;
    const acc_t ih = std::min(ay2, by2[j]) - std::max(ay1, by1[j]) + off;
    const acc_t inter = (iw > acc_t(0) ? iw : acc_t(0)) * (ih > acc_t(0) ? ih : acc_t(0));
    acc_t v;
    if constexpr (M == OverlapMode::kIoF) {
      v = inter / std::max(area_a, eps);
    } else {
      const acc_t uni = std::max(area_a + barea[j] - inter, eps);
      v = inter / uni;
      if constexpr (M == OverlapMode::kGIoU) {
        const acc_t ew = std::max(ax2, bx2[j]) - std::min(ax1, bx1[j]) + off;
        const acc_t eh = std::max(ay2, by2[j]) - std::min(ay1, by1[j]) + off;
        const acc_t enclose = std::max((ew > acc_t(0) ? ew : acc_t(0)) * (eh > acc_t(0) ? eh : acc_t(0)), eps);
        v = v - (enclose - uni) / enclose;
      }
    }
    out[j] = static_cast<scalar_t>(v);
  }
}

at::Tensor bbox_overlaps_cpu(const at::Tensor& bboxes1, const at::Tensor& bboxes2, c10::string_view mode_name,
                             bool aligned, int64_t offset) {
  TORCH_CHECK(bboxes1.dim() == 2 && bboxes1.size(1) == 4, "bbox_overlaps: bboxes1 must have shape (N, 4), got ",
              bboxes1.sizes());
  TORCH_CHECK(bboxes2.dim() == 2 && bboxes2.size(1) == 4, "bbox_overlaps: bboxes2 must have shape (M, 4), got ",
              bboxes2.sizes());
  TORCH_CHECK(offset == 0 || offset == 1, "bbox_overlaps: offset must be 0 or 1, got ", offset);
  TORCH_CHECK(bboxes1.scalar_type() == bboxes2.scalar_type(), "bbox_overlaps: bboxes1 is ", bboxes1.scalar_type(),
              " but bboxes2 is ", bboxes2.scalar_type());
  const OverlapMode mode = parse_mode(mode_name);
  const int64_t rows = bboxes1.size(0);
  const int64_t cols = bboxes2.size(0);
  if (aligned) {
    TORCH_CHECK(rows == cols, "bbox_overlaps: aligned=True needs as many boxes in bboxes1 (", rows,
                ") as in bboxes2 (", cols, ")");
  }
  const auto a = bboxes1.contiguous();
  const auto b = bboxes2.contiguous();
  auto out = aligned ? at::empty({rows}, a.options()) : at::empty({rows, cols}, a.options());
  if (out.numel() == 0) return out;

  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, a.scalar_type(), "bbox_overlaps_cpu", [&] {
    // Accumulate in float for reduced-precision inputs.
    using acc_t = at::opmath_type<scalar_t>;
    const scalar_t* pa = a.data_ptr<scalar_t>();
    const scalar_t* pb = b.data_ptr<scalar_t>();
    scalar_t* po = out.data_ptr<scalar_t>();
    const acc_t off = static_cast<acc_t>(offset);
    if (aligned) {
      at::parallel_for(0, rows, 4096, [&](int64_t begin, int64_t end) {
        acc_t box_a[4];
        acc_t box_b[4];
        for (int64_t i = begin; i < end; ++i) {
          for (int k = 0; k < 4; ++k) box_a[k] = static_cast<acc_t>(pa[i * 4 + k]);
          for (int k = 0; k < 4; ++k) box_b[k] = static_cast<acc_t>(pb[i * 4 + k]);
          po[i] = static_cast<scalar_t>(overlap(box_a, box_b, mode, off));
        }
      });
      return;
    }
    // Columns as structure-of-arrays so that each row is one vectorisable loop with the mode fixed.
    std::vector<acc_t> soa(5 * cols);
    acc_t* bx1 = soa.data();
    acc_t* by1 = bx1 + cols;
    acc_t* bx2 = by1 + cols;
    acc_t* by2 = bx2 + cols;
    acc_t* barea = by2 + cols;
    for (int64_t j = 0; j < cols; ++j) {
      bx1[j] = static_cast<acc_t>(pb[j * 4]);
      by1[j] = static_cast<acc_t>(pb[j * 4 + 1]);
      bx2[j] = static_cast<acc_t>(pb[j * 4 + 2]);
      by2[j] = static_cast<acc_t>(pb[j * 4 + 3]);
      barea[j] = (bx2[j] - bx1[j] + off) * (by2[j] - by1[j] + off);
    }
    const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(cols, 1));
    at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const acc_t ax1 = static_cast<acc_t>(pa[i * 4]), ay1 = static_cast<acc_t>(pa[i * 4 + 1]);
        const acc_t ax2 = static_cast<acc_t>(pa[i * 4 + 2]), ay2 = static_cast<acc_t>(pa[i * 4 + 3]);
        switch (mode) {
          case OverlapMode::kIoU:
            overlap_row<OverlapMode::kIoU>(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, barea, cols, off, po + i * cols);
            break;
          case OverlapMode::kIoF:
            overlap_row<OverlapMode::kIoF>(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, barea, cols, off, po + i * cols);
            break;
          case OverlapMode::kGIoU:
            overlap_row<OverlapMode::kGIoU>(ax1, ay1, ax2, ay2, bx1, by1, bx2, by2, barea, cols, off, po + i * cols);
            break;
        }
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CPU, m) { m.impl("bbox_overlaps", &bbox_overlaps_cpu); }

}  // namespace vk_ops
