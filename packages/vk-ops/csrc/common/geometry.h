// Per-element math shared by the CPU and CUDA kernels, so that both devices compute the same numbers.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define VK_HD __host__ __device__ __forceinline__
#else
#define VK_HD inline
#endif

namespace vk_ops {

// float overloads on the host; CUDA provides the same names for device code.
using std::ceil;
using std::exp;
using std::floor;
using std::log;
using std::pow;

template <typename T>
VK_HD T vk_max(T a, T b) {
  return a > b ? a : b;
}
template <typename T>
VK_HD T vk_min(T a, T b) {
  return a < b ? a : b;
}

// IoU of box a (area_a) and box b (area_b), boxes as (x1, y1, x2, y2). The union is summed as
// area_a + area_b - inter in this order everywhere (kernels and references), so that keep decisions at the
// threshold agree bit for bit.
template <typename T>
VK_HD T iou_of(T ax1, T ay1, T ax2, T ay2, T area_a, T bx1, T by1, T bx2, T by2, T area_b, T offset) {
  const T w = vk_max(vk_min(ax2, bx2) - vk_max(ax1, bx1) + offset, T(0));
  const T h = vk_max(vk_min(ay2, by2) - vk_max(ay1, by1) + offset, T(0));
  const T inter = w * h;
  return inter / (area_a + area_b - inter);
}

// Bilinear sampling coefficients with the RoIAlign border rule: points more than one pixel outside the map
// contribute nothing; points in (-1, 0] are clamped to the border.
template <typename T>
struct BilinearSample {
  int32_t p1, p2, p3, p4;  // offsets into one H*W plane
  T w1, w2, w3, w4;
};

template <typename T>
VK_HD bool bilinear_coeffs(int64_t height, int64_t width, T y, T x, BilinearSample<T>& s) {
  if (y < T(-1) || y > T(height) || x < T(-1) || x > T(width)) {
    s.p1 = s.p2 = s.p3 = s.p4 = 0;
    s.w1 = s.w2 = s.w3 = s.w4 = T(0);
    return false;
  }
  if (y <= T(0)) y = T(0);
  if (x <= T(0)) x = T(0);
  int64_t y_low = static_cast<int64_t>(y);
  int64_t x_low = static_cast<int64_t>(x);
  int64_t y_high, x_high;
  if (y_low >= height - 1) {
    y_high = y_low = height - 1;
    y = T(y_low);
  } else {
    y_high = y_low + 1;
  }
  if (x_low >= width - 1) {
    x_high = x_low = width - 1;
    x = T(x_low);
  } else {
    x_high = x_low + 1;
  }
  const T ly = y - T(y_low), lx = x - T(x_low);
  const T hy = T(1) - ly, hx = T(1) - lx;
  s.p1 = static_cast<int32_t>(y_low * width + x_low);
  s.p2 = static_cast<int32_t>(y_low * width + x_high);
  s.p3 = static_cast<int32_t>(y_high * width + x_low);
  s.p4 = static_cast<int32_t>(y_high * width + x_high);
  s.w1 = hy * hx;
  s.w2 = hy * lx;
  s.w3 = ly * hx;
  s.w4 = ly * lx;
  return true;
}

// Geometry of one RoI for RoIAlign (MMCV semantics: `aligned` shifts by half a pixel; the legacy mode forces a
// size of at least 1; sampling_ratio <= 0 samples ceil(size / bins) points per bin).
template <typename T>
struct RoiAlignGeometry {
  int64_t batch;
  T start_h, start_w, bin_h, bin_w;
  int64_t grid_h, grid_w;
  T count;
  bool negative;  // aligned RoI with a negative size: an error for the caller to raise
};

template <typename T>
VK_HD RoiAlignGeometry<T> roi_align_geometry(const T* roi, T spatial_scale, int64_t pooled_h, int64_t pooled_w,
                                             int64_t sampling_ratio, bool aligned) {
  RoiAlignGeometry<T> g;
  g.batch = static_cast<int64_t>(roi[0]);
  const T off = aligned ? T(0.5) : T(0);
  g.start_w = roi[1] * spatial_scale - off;
  g.start_h = roi[2] * spatial_scale - off;
  T roi_w = roi[3] * spatial_scale - off - g.start_w;
  T roi_h = roi[4] * spatial_scale - off - g.start_h;
  g.negative = aligned && (roi_w < T(0) || roi_h < T(0));
  if (!aligned) {
    roi_w = vk_max(roi_w, T(1));
    roi_h = vk_max(roi_h, T(1));
  }
  g.bin_h = roi_h / T(pooled_h);
  g.bin_w = roi_w / T(pooled_w);
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_h / T(pooled_h)));
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(ceil(roi_w / T(pooled_w)));
  if (g.grid_h < 0) g.grid_h = 0;
  if (g.grid_w < 0) g.grid_w = 0;
  const int64_t n = g.grid_h * g.grid_w;
  g.count = T(n > 1 ? n : 1);
  return g;
}

template <typename T>
VK_HD T roi_sample_y(const RoiAlignGeometry<T>& g, int64_t ph, int64_t iy) {
  return g.start_h + T(ph) * g.bin_h + (T(iy) + T(0.5)) * g.bin_h / T(g.grid_h);
}
template <typename T>
VK_HD T roi_sample_x(const RoiAlignGeometry<T>& g, int64_t pw, int64_t ix) {
  return g.start_w + T(pw) * g.bin_w + (T(ix) + T(0.5)) * g.bin_w / T(g.grid_w);
}

// RoIPool bin bounds (MMCV semantics: the RoI covers x1 .. x2 + 1 pixels scaled; bins are floor/ceil rounded
// and clipped to the map). Returns false for a malformed (non-positive size) RoI.
template <typename T>
VK_HD bool roi_pool_bin(const T* roi, T spatial_scale, int64_t pooled_h, int64_t pooled_w, int64_t ph, int64_t pw,
                        int64_t height, int64_t width, int64_t& h0, int64_t& h1, int64_t& w0, int64_t& w1) {
  const T x1 = roi[1] * spatial_scale, y1 = roi[2] * spatial_scale;
  const T x2 = (roi[3] + T(1)) * spatial_scale, y2 = (roi[4] + T(1)) * spatial_scale;
  const T rw = x2 - x1, rh = y2 - y1;
  if (!(rw > T(0)) || !(rh > T(0))) return false;
  const T bw = rw / T(pooled_w), bh = rh / T(pooled_h);
  w0 = static_cast<int64_t>(floor(T(pw) * bw + x1));
  h0 = static_cast<int64_t>(floor(T(ph) * bh + y1));
  w1 = static_cast<int64_t>(ceil(T(pw + 1) * bw + x1));
  h1 = static_cast<int64_t>(ceil(T(ph + 1) * bh + y1));
  w0 = vk_min(vk_max(w0, int64_t(0)), width);
  w1 = vk_min(vk_max(w1, int64_t(0)), width);
  h0 = vk_min(vk_max(h0, int64_t(0)), height);
  h1 = vk_min(vk_max(h1, int64_t(0)), height);
  return true;
}

// Focal loss terms (MMCV formulas; log arguments clamped at FLT_MIN).
template <typename T>
VK_HD T flt_min_clamp(T v) {
  const T tiny = T(1.17549435e-38);
  return v > tiny ? v : tiny;
}

// base^gamma with the common integer exponents as multiplications (exact: pow is correctly rounded there too).
template <typename T>
VK_HD T pow_gamma(T base, T gamma) {
  if (gamma == T(2)) return base * base;
  if (gamma == T(1)) return base;
  if (gamma == T(0)) return T(1);
  return pow(base, gamma);
}

template <typename T>
VK_HD T sigmoid_focal_value(T x, bool positive, T gamma, T alpha) {
  const T p = T(1) / (T(1) + exp(-x));
  if (positive) return -alpha * pow_gamma(T(1) - p, gamma) * log(flt_min_clamp(p));
  return -(T(1) - alpha) * pow_gamma(p, gamma) * log(flt_min_clamp(T(1) - p));
}

template <typename T>
VK_HD T sigmoid_focal_grad(T x, bool positive, T gamma, T alpha) {
  const T p = T(1) / (T(1) + exp(-x));
  if (positive) {
    return -alpha * pow_gamma(T(1) - p, gamma) * (T(1) - p - gamma * p * log(flt_min_clamp(p)));
  }
  return -(T(1) - alpha) * pow_gamma(p, gamma) * (gamma * (T(1) - p) * log(flt_min_clamp(T(1) - p)) - p);
}

}  // namespace vk_ops
