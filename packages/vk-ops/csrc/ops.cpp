// The vk_ops operator library: one schema per operator, declared once here. Kernels for each device are
// registered next to their implementation with TORCH_LIBRARY_IMPL.
#include <Python.h>
#include <torch/library.h>

TORCH_LIBRARY(vk_ops, m) {
  m.def("bbox_overlaps(Tensor bboxes1, Tensor bboxes2, str mode=\"iou\", bool aligned=False, int offset=0) -> Tensor");
}

// The library is loaded as the Python extension module vk_ops._C so that importing it works the same in
// wheels and editable installs; registration happens in static initialisers when it is loaded.
static struct PyModuleDef vk_ops_module = {PyModuleDef_HEAD_INIT, "_C", "vk_ops kernels", -1, nullptr};

PyMODINIT_FUNC PyInit__C(void) { return PyModule_Create(&vk_ops_module); }
