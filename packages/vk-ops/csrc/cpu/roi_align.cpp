// CPU kernels of vk_ops::roi_align and its backward (MMCV semantics, avg and max pooling).
//
// Forward: parallel over RoIs; the bilinear coefficients of a RoI's sample points are computed once and reused
// for every channel. Backward: parallel over channels, so that no two threads ever add into the same plane.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "common/geometry.h"

namespace vk_ops {
namespace {

constexpr double kNoArgmax = -2.0;  // outside the sampling range, so bilinear_coeffs() rejects it

void check_rois(const char* op, const at::Tensor& input, const at::Tensor& rois) {
  TORCH_CHECK(input.dim() == 4, op, ": input must have shape (N, C, H, W), got ", input.sizes());
  TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, op, ": rois must have shape (K, 5) = (batch index, x1, y1, x2, y2), got ",
              rois.sizes());
  TORCH_CHECK(input.scalar_type() == rois.scalar_type(), op, ": input is ", input.scalar_type(), " but rois are ",
              rois.scalar_type());
}

template <typename T>
void check_geometry(const RoiAlignGeometry<T>& g, int64_t n, int64_t batch) {
  TORCH_CHECK_VALUE(g.batch >= 0 && g.batch < batch, "roi_align: rois[", n, ", 0] = ", g.batch,
              " is not a batch index of the input (batch size ", batch, ")");
  TORCH_CHECK_VALUE(!g.negative, "roi_align: rois[", n, "] has a negative width or height (aligned=True needs x2 >= x1 and y2 >= y1)");
}

// Coefficients of every sample of one RoI, ordered (ph, pw, iy, ix).
template <typename A>
void precompute(const RoiAlignGeometry<A>& g, int64_t ph_n, int64_t pw_n, int64_t height, int64_t width,
                std::vector<BilinearSample<A>>& out) {
  out.resize(ph_n * pw_n * g.grid_h * g.grid_w);
  size_t k = 0;
  for (int64_t ph = 0; ph < ph_n; ++ph) {
    for (int64_t pw = 0; pw < pw_n; ++pw) {
      for (int64_t iy = 0; iy < g.grid_h; ++iy) {
        const A y = roi_sample_y(g, ph, iy);
        for (int64_t ix = 0; ix < g.grid_w; ++ix) {
          bilinear_coeffs(height, width, y, roi_sample_x(g, pw, ix), out[k++]);
        }
      }
    }
  }
}

// Average pooling is separable: a bilinear weight is (row weight) x (column weight), and a sample outside the
// map is outside along one axis. So a bin's mean is sum_r Wy[r] * sum_c Wx[c] * f[r, c] over the rectangle of
// pixels its samples touch, with Wy / Wx the per-axis weights summed over the samples. That is a few
// contiguous dot products per bin instead of 4 gathers per sample (3-4x fewer operations at adaptive
// sampling). Taps of bin p along one axis: pixels first[p] .. first[p] + len[p] - 1, weights at w[off[p]].
template <typename A>
struct AxisTaps {
  std::vector<int64_t> first, len, off;
  std::vector<A> w;
};

template <typename A>
bool axis_coeff(A v, int64_t size, int64_t& lo, int64_t& hi, A& w_lo, A& w_hi) {
  // The one-dimensional half of bilinear_coeffs() in common/geometry.h.
  if (v < A(-1) || v > A(size)) return false;
  if (v <= A(0)) v = A(0);
  lo = static_cast<int64_t>(v);
  if (lo >= size - 1) {
    hi = lo = size - 1;
    v = A(lo);
  } else {
    hi = lo + 1;
  }
  w_hi = v - A(lo);
  w_lo = A(1) - w_hi;
  return true;
}

template <typename A, typename SampleFn>
void axis_taps(int64_t bins, int64_t grid, int64_t size, SampleFn sample, AxisTaps<A>& t) {
  t.first.assign(bins, 0);
  t.len.assign(bins, 0);
  t.off.assign(bins, 0);
  t.w.clear();
  for (int64_t p = 0; p < bins; ++p) {
    int64_t lo_min = size, hi_max = -1;
    for (int64_t i = 0; i < grid; ++i) {
      int64_t lo, hi;
      A wl, wh;
      if (!axis_coeff(sample(p, i), size, lo, hi, wl, wh)) continue;
      lo_min = std::min(lo_min, lo);
      hi_max = std::max(hi_max, hi);
    }
    t.off[p] = static_cast<int64_t>(t.w.size());
    if (hi_max < lo_min) continue;
    t.first[p] = lo_min;
    t.len[p] = hi_max - lo_min + 1;
    t.w.resize(t.w.size() + t.len[p], A(0));
    A* w = t.w.data() + t.off[p];
    for (int64_t i = 0; i < grid; ++i) {
      int64_t lo, hi;
      A wl, wh;
      if (!axis_coeff(sample(p, i), size, lo, hi, wl, wh)) continue;
      w[lo - lo_min] += wl;
      w[hi - lo_min] += wh;
    }
  }
}

template <typename A>
void roi_axis_taps(const RoiAlignGeometry<A>& g, int64_t pooled_h, int64_t pooled_w, int64_t height, int64_t width,
                   AxisTaps<A>& ty, AxisTaps<A>& tx) {
  axis_taps<A>(pooled_h, g.grid_h, height, [&](int64_t p, int64_t i) { return roi_sample_y(g, p, i); }, ty);
  axis_taps<A>(pooled_w, g.grid_w, width, [&](int64_t p, int64_t i) { return roi_sample_x(g, p, i); }, tx);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> roi_align_cpu(const at::Tensor& input_, const at::Tensor& rois_,
                                                             int64_t pooled_h, int64_t pooled_w,
                                                             double spatial_scale, int64_t sampling_ratio,
                                                             int64_t pool_mode, bool aligned) {
  check_rois("roi_align", input_, rois_);
  TORCH_CHECK(pooled_h > 0 && pooled_w > 0, "roi_align: output_size must be positive, got (", pooled_h, ", ",
              pooled_w, ")");
  TORCH_CHECK(pool_mode == 0 || pool_mode == 1, "roi_align: pool_mode must be 0 (max) or 1 (avg), got ", pool_mode);
  const auto input = input_.contiguous();
  const auto rois = rois_.contiguous();
  const int64_t num = rois.size(0), batch = input.size(0), channels = input.size(1);
  const int64_t height = input.size(2), width = input.size(3);
  auto output = at::zeros({num, channels, pooled_h, pooled_w}, input.options());
  const bool is_max = pool_mode == 0;
  // "No maximum" is stored as a point outside the map (-2): unlike MMCV's -1, which is also a legitimate
  // sample coordinate (one pixel left of / above the map, clamped to the border) whose gradient it loses.
  auto argmax_y = is_max ? at::full({num, channels, pooled_h, pooled_w}, kNoArgmax, input.options())
                         : at::empty({0}, input.options());
  auto argmax_x = is_max ? at::full({num, channels, pooled_h, pooled_w}, kNoArgmax, input.options())
                         : at::empty({0}, input.options());
  if (num == 0 || channels == 0) return {output, argmax_y, argmax_x};

  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "roi_align_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* in = input.data_ptr<scalar_t>();
    const scalar_t* r = rois.data_ptr<scalar_t>();
    scalar_t* out = output.data_ptr<scalar_t>();
    scalar_t* ay = is_max ? argmax_y.data_ptr<scalar_t>() : nullptr;
    scalar_t* ax = is_max ? argmax_x.data_ptr<scalar_t>() : nullptr;
    const A scale = A(spatial_scale);
    std::vector<RoiAlignGeometry<A>> geo(num);
    for (int64_t n = 0; n < num; ++n) {
      A roi[5];
      for (int k = 0; k < 5; ++k) roi[k] = A(r[n * 5 + k]);
      geo[n] = roi_align_geometry(roi, scale, pooled_h, pooled_w, sampling_ratio, aligned);
      check_geometry(geo[n], n, batch);
    }
    const int64_t bins = pooled_h * pooled_w, plane = height * width;
    // With many channels, a channels-last copy (in the accumulation type) lets the average path vectorise over
    // channels; the copy costs one pass over the features.
    const bool channels_last = !is_max && channels >= 16;
    at::Tensor nhwc;
    if (channels_last) nhwc = input.permute({0, 2, 3, 1}).to(at::CppTypeToScalarType<A>::value).contiguous();
    const A* nhwc_ptr = channels_last ? nhwc.template data_ptr<A>() : nullptr;
    at::parallel_for(0, num, 1, [&](int64_t begin, int64_t end) {
      std::vector<BilinearSample<A>> pre;
      std::vector<A> acc(channels);
      AxisTaps<A> ty, tx;
      for (int64_t n = begin; n < end; ++n) {
        const auto& g = geo[n];
        if (!is_max && channels_last) {
          // Vectorised over channels: every tap of a bin is one axpy over C contiguous values.
          roi_axis_taps(g, pooled_h, pooled_w, height, width, ty, tx);
          const A inv_count = A(1) / g.count;
          const A* base = nhwc_ptr + g.batch * plane * channels;
          for (int64_t ph = 0; ph < pooled_h; ++ph) {
            const A* wy = ty.w.data() + ty.off[ph];
            for (int64_t pw = 0; pw < pooled_w; ++pw) {
              const A* wx = tx.w.data() + tx.off[pw];
              std::fill(acc.begin(), acc.end(), A(0));
              A* __restrict__ a = acc.data();
              for (int64_t r = 0; r < ty.len[ph]; ++r) {
                const A* row = base + ((ty.first[ph] + r) * width + tx.first[pw]) * channels;
                for (int64_t k = 0; k < tx.len[pw]; ++k) {
                  const A w = wy[r] * wx[k];
                  const A* __restrict__ f = row + k * channels;
                  for (int64_t c = 0; c < channels; ++c) a[c] += w * f[c];
                }
              }
              scalar_t* o = out + n * channels * bins + ph * pooled_w + pw;
              for (int64_t c = 0; c < channels; ++c) o[c * bins] = scalar_t(a[c] * inv_count);
            }
          }
          continue;
        }
        if (!is_max) {
          roi_axis_taps(g, pooled_h, pooled_w, height, width, ty, tx);
          const A inv_count = A(1) / g.count;
          for (int64_t c = 0; c < channels; ++c) {
            const scalar_t* src = in + (g.batch * channels + c) * plane;
            scalar_t* o = out + (n * channels + c) * bins;
            for (int64_t ph = 0; ph < pooled_h; ++ph) {
              const A* wy = ty.w.data() + ty.off[ph];
              for (int64_t pw = 0; pw < pooled_w; ++pw) {
                const A* wx = tx.w.data() + tx.off[pw];
                const int64_t nx = tx.len[pw];
                A acc_v = A(0);
                for (int64_t r = 0; r < ty.len[ph]; ++r) {
                  const scalar_t* row = src + (ty.first[ph] + r) * width + tx.first[pw];
                  A dot = A(0);
                  for (int64_t k = 0; k < nx; ++k) dot += wx[k] * A(row[k]);
                  acc_v += wy[r] * dot;
                }
                o[ph * pooled_w + pw] = scalar_t(acc_v * inv_count);
              }
            }
          }
          continue;
        }
        precompute(g, pooled_h, pooled_w, height, width, pre);
        const int64_t per_bin = g.grid_h * g.grid_w;
        for (int64_t c = 0; c < channels; ++c) {
          const scalar_t* src = in + (g.batch * channels + c) * plane;
          const int64_t o = (n * channels + c) * bins;
          const BilinearSample<A>* s = pre.data();
          for (int64_t bin = 0; bin < bins; ++bin) {
            A best = A(-10000);
            int64_t best_k = -1;
            for (int64_t k = 0; k < per_bin; ++k, ++s) {
              const A v =
                  s->w1 * A(src[s->p1]) + s->w2 * A(src[s->p2]) + s->w3 * A(src[s->p3]) + s->w4 * A(src[s->p4]);
              if (v > best) {
                best = v;
                best_k = k;
              }
            }
            out[o + bin] = scalar_t(best);
            if (best_k >= 0) {
              const int64_t ph = bin / pooled_w, pw = bin % pooled_w;
              ay[o + bin] = scalar_t(roi_sample_y(g, ph, best_k / g.grid_w));
              ax[o + bin] = scalar_t(roi_sample_x(g, pw, best_k % g.grid_w));
            }
          }
        }
      }
    });
  });
  return {output, argmax_y, argmax_x};
}

at::Tensor roi_align_backward_cpu(const at::Tensor& grad_output_, const at::Tensor& rois_, const at::Tensor& argmax_y_,
                                  const at::Tensor& argmax_x_, int64_t batch, int64_t channels, int64_t height,
                                  int64_t width, double spatial_scale, int64_t sampling_ratio, int64_t pool_mode,
                                  bool aligned) {
  TORCH_CHECK(grad_output_.dim() == 4 && grad_output_.size(0) == rois_.size(0) && grad_output_.size(1) == channels,
              "roi_align_backward: grad_output must have shape (K, C, PH, PW) = (", rois_.size(0), ", ", channels,
              ", PH, PW), got ", grad_output_.sizes());
  const auto grad_output = grad_output_.contiguous();
  const auto rois = rois_.contiguous();
  const bool is_max = pool_mode == 0;
  const auto argmax_y = argmax_y_.contiguous();
  const auto argmax_x = argmax_x_.contiguous();
  const int64_t num = rois.size(0), pooled_h = grad_output.size(2), pooled_w = grad_output.size(3);
  const auto acc_type = at::toOpMathType(grad_output.scalar_type());
  auto grad_input = at::zeros({batch, channels, height, width}, grad_output.options().dtype(acc_type));
  if (num == 0 || channels == 0 || height == 0 || width == 0) return grad_input.to(grad_output.scalar_type());

  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad_output.scalar_type(), "roi_align_backward_cpu", [&] {
    using A = at::opmath_type<scalar_t>;
    const scalar_t* go = grad_output.data_ptr<scalar_t>();
    const scalar_t* r = rois.data_ptr<scalar_t>();
    const scalar_t* ay = is_max ? argmax_y.data_ptr<scalar_t>() : nullptr;
    const scalar_t* ax = is_max ? argmax_x.data_ptr<scalar_t>() : nullptr;
    A* gi = grad_input.data_ptr<A>();
    const A scale = A(spatial_scale);
    std::vector<RoiAlignGeometry<A>> geo(num);
    for (int64_t n = 0; n < num; ++n) {
      A roi[5];
      for (int k = 0; k < 5; ++k) roi[k] = A(r[n * 5 + k]);
      geo[n] = roi_align_geometry(roi, scale, pooled_h, pooled_w, sampling_ratio, aligned);
      check_geometry(geo[n], n, batch);
    }
    const int64_t bins = pooled_h * pooled_w, plane = height * width;
    if (!is_max && channels >= 16) {
      // Channels-last, as in the forward: each tap adds a scaled channel vector. Threads own channel ranges,
      // so no two threads write the same value.
      const auto go_t = grad_output.view({num, channels, bins}).permute({0, 2, 1}).to(acc_type).contiguous();
      auto gi_nhwc = at::zeros({batch, height, width, channels}, grad_output.options().dtype(acc_type));
      const A* gv_all = go_t.template data_ptr<A>();
      A* gi_all = gi_nhwc.template data_ptr<A>();
      at::parallel_for(0, channels, 16, [&](int64_t c_begin, int64_t c_end) {
        AxisTaps<A> ty, tx;
        for (int64_t n = 0; n < num; ++n) {
          const auto& g = geo[n];
          roi_axis_taps(g, pooled_h, pooled_w, height, width, ty, tx);
          const A inv_count = A(1) / g.count;
          A* base = gi_all + g.batch * plane * channels;
          for (int64_t ph = 0; ph < pooled_h; ++ph) {
            const A* wy = ty.w.data() + ty.off[ph];
            for (int64_t pw = 0; pw < pooled_w; ++pw) {
              const A* wx = tx.w.data() + tx.off[pw];
              const A* __restrict__ gv = gv_all + (n * bins + ph * pooled_w + pw) * channels;
              for (int64_t r = 0; r < ty.len[ph]; ++r) {
                A* row = base + ((ty.first[ph] + r) * width + tx.first[pw]) * channels;
                for (int64_t k = 0; k < tx.len[pw]; ++k) {
                  const A w = wy[r] * wx[k] * inv_count;
                  A* __restrict__ f = row + k * channels;
                  for (int64_t c = c_begin; c < c_end; ++c) f[c] += w * gv[c];
                }
              }
            }
          }
        }
      });
      grad_input = gi_nhwc.permute({0, 3, 1, 2}).contiguous();
      return;
    }
    // Grain: enough channels per task to amortise recomputing each RoI's coefficients.
    at::parallel_for(0, channels, 8, [&](int64_t c_begin, int64_t c_end) {
      AxisTaps<A> ty, tx;
      for (int64_t n = 0; n < num; ++n) {
        const auto& g = geo[n];
        if (!is_max) roi_axis_taps(g, pooled_h, pooled_w, height, width, ty, tx);
        const A inv_count = A(1) / g.count;
        for (int64_t c = c_begin; c < c_end; ++c) {
          A* dst = gi + (g.batch * channels + c) * plane;
          const int64_t o = (n * channels + c) * bins;
          if (!is_max) {
            for (int64_t ph = 0; ph < pooled_h; ++ph) {
              const A* wy = ty.w.data() + ty.off[ph];
              for (int64_t pw = 0; pw < pooled_w; ++pw) {
                const A* wx = tx.w.data() + tx.off[pw];
                const int64_t nx = tx.len[pw];
                const A gval = A(go[o + ph * pooled_w + pw]) * inv_count;
                for (int64_t r = 0; r < ty.len[ph]; ++r) {
                  A* row = dst + (ty.first[ph] + r) * width + tx.first[pw];
                  const A gr = gval * wy[r];
                  for (int64_t k = 0; k < nx; ++k) row[k] += gr * wx[k];
                }
              }
            }
          } else {
            for (int64_t bin = 0; bin < bins; ++bin) {
              const A y = A(ay[o + bin]), x = A(ax[o + bin]);
              BilinearSample<A> s;
              if (!bilinear_coeffs(height, width, y, x, s)) continue;
              const A gval = A(go[o + bin]);
              dst[s.p1] += gval * s.w1;
              dst[s.p2] += gval * s.w2;
              dst[s.p3] += gval * s.w3;
              dst[s.p4] += gval * s.w4;
            }
          }
        }
      }
    });
  });
  return grad_input.to(grad_output.scalar_type());
}

}  // namespace

TORCH_LIBRARY_IMPL(vk_ops, CPU, m) {
  m.impl("roi_align", &roi_align_cpu);
  m.impl("roi_align_backward", &roi_align_backward_cpu);
}

}  // namespace vk_ops
