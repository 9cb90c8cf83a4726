// CPU kernels of the NMS family: nms, soft_nms, nms_match.
//
// Tie rule (shared with the references and the CUDA kernel): boxes are visited by descending score, and equal
// scores keep their input order (a stable sort), so the keep set never depends on the sort implementation.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "common/geometry.h"

namespace vk_ops {
namespace {

void check_boxes_scores(const char* op, const at::Tensor& boxes, const at::Tensor& scores) {
  TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, op, ": boxes must have shape (N, 4), got ", boxes.sizes());
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), op, ": scores must have shape (",
              boxes.size(0), ",) to match boxes, got ", scores.sizes());
  TORCH_CHECK(boxes.scalar_type() == scores.scalar_type(), op, ": boxes are ", boxes.scalar_type(),
              " but scores are ", scores.scalar_type());
  TORCH_CHECK(at::isFloatingType(boxes.scalar_type()), op, ": boxes must be floating point, got ",
              boxes.scalar_type());
}

// Reduced-precision inputs are computed in float (as the references do).
at::Tensor as_compute(const at::Tensor& t) {
  const auto st = t.scalar_type();
  if (st == at::kHalf || st == at::kBFloat16) return t.to(at::kFloat).contiguous();
  return t.contiguous();
}

// Indices sorted by descending score, stable; NaN scores go last.
template <typename T>
std::vector<int64_t> stable_order(const T* score, int64_t n, bool filter, T score_threshold) {
  std::vector<int64_t> order;
  order.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    if (filter && !(score[i] > score_threshold)) continue;
    order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [score](int64_t a, int64_t b) {
    const T sa = score[a], sb = score[b];
    if (std::isnan(sb)) return !std::isnan(sa);
    return sa > sb;
  });
  return order;
}

// Whether any kept box k in [k_begin, k_end) has IoU > thr with the candidate. Written as a branch-free
// counting loop over blocks so that the compiler vectorises it; exits between blocks.
template <typename T>
bool any_above(const T* __restrict__ kx1, const T* __restrict__ ky1, const T* __restrict__ kx2,
               const T* __restrict__ ky2, const T* __restrict__ ka, int64_t k_begin, int64_t k_end, T x1, T y1,
               T x2, T y2, T area, T off, T thr) {
  constexpr int64_t kLanes = 64;
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kLanes) {
    const int64_t k1 = std::min(k_end, k0 + kLanes);
    int hits = 0;
    for (int64_t k = k0; k < k1; ++k) {
      const T iou = iou_of(kx1[k], ky1[k], kx2[k], ky2[k], ka[k], x1, y1, x2, y2, area, off);
      hits += iou > thr ? 1 : 0;
    }
    if (hits) return true;
  }
  return false;
}

// Greedy NMS, exact, in blocks: each block of candidates is first tested against every box kept so far (in
// parallel: candidates are independent given the kept set), then the survivors are resolved against each
// other in score order. Equivalent to the textbook loop but parallel and with a vectorisable inner loop.
template <typename T>
std::vector<int64_t> greedy_nms(const T* box, const std::vector<int64_t>& order, T thr, T off, int64_t max_num) {
  const int64_t n = static_cast<int64_t>(order.size());
  std::vector<T> kx1, ky1, kx2, ky2, ka;
  std::vector<int64_t> keep;
  const int64_t reserve = max_num > 0 ? std::min(max_num, n) : n;
  for (auto* v : {&kx1, &ky1, &kx2, &ky2, &ka}) v->reserve(reserve);
  keep.reserve(reserve);
  constexpr int64_t kBlock = 256;
  std::vector<uint8_t> alive(kBlock);

  auto suppressed_by = [&](T x1, T y1, T x2, T y2, T area, int64_t k_begin, int64_t k_end) {
    return any_above(kx1.data(), ky1.data(), kx2.data(), ky2.data(), ka.data(), k_begin, k_end, x1, y1, x2, y2,
                     area, off, thr);
  };

  for (int64_t b0 = 0; b0 < n; b0 += kBlock) {
    const int64_t b1 = std::min(n, b0 + kBlock);
    const int64_t kept_before = static_cast<int64_t>(keep.size());
    // Phase 1: against the kept set (read only here). A parallel region per block only pays off for very
    // large kept sets: with busy cores (data loader workers, other jobs) every region waits for a time slice,
    // which made 2-thread NMS 50x slower than 1 thread on a loaded 2-core machine. So split only when a half
    // block is at least ~2M IoU tests (about a millisecond).
    const int64_t grain = std::max<int64_t>(1, (int64_t(1) << 22) / (kept_before + 1));
    at::parallel_for(b0, b1, grain, [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const T* b = box + order[p] * 4;
        const T area = (b[2] - b[0] + off) * (b[3] - b[1] + off);
        alive[p - b0] = !suppressed_by(b[0], b[1], b[2], b[3], area, 0, kept_before);
      }
    });
    // Phase 2: the block's survivors against each other, in order.
    for (int64_t p = b0; p < b1; ++p) {
      if (!alive[p - b0]) continue;
      const T* b = box + order[p] * 4;
      const T area = (b[2] - b[0] + off) * (b[3] - b[1] + off);
      if (suppressed_by(b[0], b[1], b[2], b[3], area, kept_before, static_cast<int64_t>(keep.size()))) continue;
      kx1.push_back(b[0]);
      ky1.push_back(b[1]);
      kx2.push_back(b[2]);
      ky2.push_back(b[3]);
      ka.push_back(area);
      keep.push_back(order[p]);
      if (max_num > 0 && static_cast<int64_t>(keep.size()) >= max_num) return keep;
    }
  }
  return keep;
}

at::Tensor to_index_tensor(const std::vector<int64_t>& v) {
  auto out = at::empty({static_cast<int64_t>(v.size())}, at::TensorOptions().dtype(at::kLong));
  std::copy(v.begin(), v.end(), out.data_ptr<int64_t>());
  return out;
}

at::Tensor nms_cpu(const at::Tensor& boxes, const at::Tensor& scores, double iou_threshold, int64_t offset,
                   double score_threshold, int64_t max_num) {
  check_boxes_scores("nms", boxes, scores);
  TORCH_CHECK(offset == 0 || offset == 1, "nms: offset must be 0 or 1, got ", offset);
  if (boxes.size(0) == 0 || max_num == 0) return at::empty({0}, boxes.options().dtype(at::kLong));
  const auto b = as_compute(boxes);
  const auto s = as_compute(scores);
  std::vector<int64_t> keep;
  AT_DISPATCH_FLOATING_TYPES(b.scalar_type(), "nms_cpu", [&] {
    const auto order = stable_order(s.data_ptr<scalar_t>(), s.size(0), score_threshold > 0,
                                    static_cast<scalar_t>(score_threshold));
    keep = greedy_nms(b.data_ptr<scalar_t>(), order, static_cast<scalar_t>(iou_threshold),
                      static_cast<scalar_t>(offset), max_num);
  });
  return to_index_tensor(keep);
}

// Soft-NMS as MMCV computes it: repeatedly move the highest remaining score to the front, decay the others by
// their overlap with it, and drop (swap with the last live box) any whose score falls below min_score.
std::tuple<at::Tensor, at::Tensor> soft_nms_cpu(const at::Tensor& boxes, const at::Tensor& scores,
                                                double iou_threshold, double sigma, double min_score, int64_t method,
                                                int64_t offset) {
  check_boxes_scores("soft_nms", boxes, scores);
  TORCH_CHECK(method >= 0 && method <= 2, "soft_nms: method must be 0 (naive), 1 (linear) or 2 (gaussian), got ",
              method);
  TORCH_CHECK(offset == 0 || offset == 1, "soft_nms: offset must be 0 or 1, got ", offset);
  const int64_t n = boxes.size(0);
  if (n == 0) {
    return {at::empty({0, 5}, boxes.options()), at::empty({0}, boxes.options().dtype(at::kLong))};
  }
  const auto b = as_compute(boxes);
  const auto s = as_compute(scores);
  at::Tensor dets = at::empty({n, 5}, b.options());
  std::vector<int64_t> inds(n);
  int64_t live = n;
  AT_DISPATCH_FLOATING_TYPES(b.scalar_type(), "soft_nms_cpu", [&] {
    using T = scalar_t;
    const T off = T(offset), thr = T(iou_threshold), sg = T(sigma), ms = T(min_score);
    const T* pb = b.data_ptr<T>();
    const T* ps = s.data_ptr<T>();
    std::vector<T> x1(n), y1(n), x2(n), y2(n), sc(n), ar(n);
    for (int64_t i = 0; i < n; ++i) {
      x1[i] = pb[i * 4];
      y1[i] = pb[i * 4 + 1];
      x2[i] = pb[i * 4 + 2];
      y2[i] = pb[i * 4 + 3];
      sc[i] = ps[i];
      ar[i] = (x2[i] - x1[i] + off) * (y2[i] - y1[i] + off);
      inds[i] = i;
    }
    T* de = dets.data_ptr<T>();
    for (int64_t i = 0; i < live; ++i) {
      int64_t best = i;
      for (int64_t p = i + 1; p < live; ++p) {
        if (sc[best] < sc[p]) best = p;
      }
      std::swap(x1[i], x1[best]);
      std::swap(y1[i], y1[best]);
      std::swap(x2[i], x2[best]);
      std::swap(y2[i], y2[best]);
      std::swap(sc[i], sc[best]);
      std::swap(ar[i], ar[best]);
      std::swap(inds[i], inds[best]);
      de[i * 5] = x1[i];
      de[i * 5 + 1] = y1[i];
      de[i * 5 + 2] = x2[i];
      de[i * 5 + 3] = y2[i];
      de[i * 5 + 4] = sc[i];
      for (int64_t p = i + 1; p < live; ++p) {
        const T ovr = iou_of(x1[i], y1[i], x2[i], y2[i], ar[i], x1[p], y1[p], x2[p], y2[p], ar[p], off);
        T weight = T(1);
        if (method == 0) {
          if (ovr >= thr) weight = T(0);
        } else if (method == 1) {
          if (ovr >= thr) weight = T(1) - ovr;
        } else {
          weight = std::exp(-(ovr * ovr) / sg);
        }
        sc[p] *= weight;
        if (sc[p] < ms) {
          const int64_t last = live - 1;
          x1[p] = x1[last];
          y1[p] = y1[last];
          x2[p] = x2[last];
          y2[p] = y2[last];
          sc[p] = sc[last];
          ar[p] = ar[last];
          inds[p] = inds[last];
          --live;
          --p;
        }
      }
    }
  });
  inds.resize(live);
  return {dets.slice(0, 0, live).to(boxes.scalar_type()), to_index_tensor(inds)};
}

// Groups of mutually matching boxes (IoU >= threshold with the group's highest-scoring box), MMCV nms_match.
std::tuple<at::Tensor, at::Tensor> nms_match_cpu(const at::Tensor& dets, double iou_threshold) {
  TORCH_CHECK(dets.dim() == 2 && dets.size(1) == 5, "nms_match: dets must have shape (N, 5), got ", dets.sizes());
  const int64_t n = dets.size(0);
  const auto d = as_compute(dets);
  std::vector<int64_t> flat, sizes;
  flat.reserve(n);
  AT_DISPATCH_FLOATING_TYPES(d.scalar_type(), "nms_match_cpu", [&] {
    using T = scalar_t;
    const T* p = d.data_ptr<T>();
    std::vector<T> x1(n), y1(n), x2(n), y2(n), sc(n), ar(n);
    for (int64_t i = 0; i < n; ++i) {
      x1[i] = p[i * 5];
      y1[i] = p[i * 5 + 1];
      x2[i] = p[i * 5 + 2];
      y2[i] = p[i * 5 + 3];
      sc[i] = p[i * 5 + 4];
      ar[i] = (x2[i] - x1[i]) * (y2[i] - y1[i]);
    }
    const auto order = stable_order(sc.data(), n, false, T(0));
    const T thr = T(iou_threshold);
    std::vector<uint8_t> suppressed(n, 0);
    for (int64_t a = 0; a < n; ++a) {
      const int64_t i = order[a];
      if (suppressed[i]) continue;
      const size_t start = flat.size();
      flat.push_back(i);
      for (int64_t c = a + 1; c < n; ++c) {
        const int64_t j = order[c];
        if (suppressed[j]) continue;
        if (iou_of(x1[i], y1[i], x2[i], y2[i], ar[i], x1[j], y1[j], x2[j], y2[j], ar[j], T(0)) >= thr) {
          suppressed[j] = 1;
          flat.push_back(j);
        }
      }
      sizes.push_back(static_cast<int64_t>(flat.size() - start));
    }
  });
  return {to_index_tensor(flat), to_index_tensor(sizes)};
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CPU, m) {
  m.impl("nms", &nms_cpu);
  m.impl("soft_nms", &soft_nms_cpu);
  m.impl("nms_match", &nms_match_cpu);
}

}  // namespace vk_ops
