// The vk_ops operator library: one schema per operator, declared once here. Kernels for each device are
// registered next to their implementation with TORCH_LIBRARY_IMPL; fakes and autograd are registered in Python
// (vk_ops/_fake.py, vk_ops/_autograd.py).
#include <Python.h>
#include <torch/library.h>

TORCH_LIBRARY(vk_ops, m) {
  m.def("bbox_overlaps(Tensor bboxes1, Tensor bboxes2, str mode=\"iou\", bool aligned=False, int offset=0) -> Tensor");

  // NMS family. `nms` returns the kept indices into the *original* boxes, highest score first; the score filter
  // and max_num are applied inside so that the op has one data-dependent output (compile/export friendly).
  m.def(
      "nms(Tensor boxes, Tensor scores, float iou_threshold, int offset=0, float score_threshold=0., "
      "int max_num=-1) -> Tensor");
  // method: 0 naive (hard), 1 linear, 2 gaussian. Returns (dets (K, 5) with decayed scores, kept indices (K,)).
  m.def(
      "soft_nms(Tensor boxes, Tensor scores, float iou_threshold, float sigma, float min_score, int method, "
      "int offset=0) -> (Tensor, Tensor)");
  // Groups as a flat index list and the size of each group (first member of each group is the kept box).
  m.def("nms_match(Tensor dets, float iou_threshold) -> (Tensor, Tensor)");

  // RoI ops. rois are (K, 5): batch index, x1, y1, x2, y2. pool_mode 0 = max, 1 = avg. In max mode the
  // argmax sample coordinates are returned for the backward; in avg mode they are empty.
  m.def(
      "roi_align(Tensor input, Tensor rois, int pooled_height, int pooled_width, float spatial_scale, "
      "int sampling_ratio, int pool_mode, bool aligned) -> (Tensor, Tensor, Tensor)");
  m.def(
      "roi_align_backward(Tensor grad_output, Tensor rois, Tensor argmax_y, Tensor argmax_x, int batch, "
      "int channels, int height, int width, float spatial_scale, int sampling_ratio, int pool_mode, "
      "bool aligned) -> Tensor");
  m.def(
      "roi_pool(Tensor input, Tensor rois, int pooled_height, int pooled_width, float spatial_scale) "
      "-> (Tensor, Tensor)");
  m.def(
      "roi_pool_backward(Tensor grad_output, Tensor rois, Tensor argmax, int batch, int channels, int height, "
      "int width) -> Tensor");

  // Focal losses, unreduced: sigmoid gives (N, C), softmax gives (N,). The backward ops give d loss / d input
  // per element (sigmoid) or per row (softmax), to be scaled by the incoming gradient.
  m.def("sigmoid_focal_loss(Tensor input, Tensor target, Tensor? weight, float gamma, float alpha) -> Tensor");
  m.def(
      "sigmoid_focal_loss_backward(Tensor input, Tensor target, Tensor? weight, float gamma, float alpha) "
      "-> Tensor");
  m.def("softmax_focal_loss(Tensor input, Tensor target, Tensor? weight, float gamma, float alpha) -> Tensor");
  m.def(
      "softmax_focal_loss_backward(Tensor input, Tensor target, Tensor? weight, float gamma, float alpha) "
      "-> Tensor");
}

// The library is loaded as the Python extension module vk_ops._C so that importing it works the same in
// wheels and editable installs; registration happens in static initialisers when it is loaded.
static struct PyModuleDef vk_ops_module = {PyModuleDef_HEAD_INIT, "_C", "vk_ops kernels", -1, nullptr};

PyMODINIT_FUNC PyInit__C(void) { return PyModule_Create(&vk_ops_module); }
