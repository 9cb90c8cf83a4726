# Finds the torch installed in the Python interpreter that drives the build and makes its CMake package
# available. Sets:
#   VK_TORCH_VERSION   full torch version string (e.g. 2.13.0+cpu)
#   VK_TORCH_CUDA      CUDA version torch was built with, empty for CPU builds
#   VK_TORCH_CXX11_ABI 1 or 0
# and the imported targets of find_package(Torch).
#
# Torch must already be installed: vk-ops is built with --no-build-isolation so that it links against the
# exact torch the user runs, never a copy pip fetched into an isolated build environment.

if(NOT Python_EXECUTABLE)
  find_package(Python 3.10 REQUIRED COMPONENTS Interpreter Development.Module)
endif()

execute_process(
  COMMAND "${Python_EXECUTABLE}" -c
          "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda or ''); print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"
  OUTPUT_VARIABLE _vk_torch_out
  ERROR_VARIABLE _vk_torch_err
  RESULT_VARIABLE _vk_torch_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _vk_torch_rc EQUAL 0)
  message(FATAL_ERROR
    "vk-ops: torch is not importable from ${Python_EXECUTABLE}.\n"
    "Install torch first, then build vk-ops against it without build isolation:\n"
    "  pip install --no-build-isolation packages/vk-ops\n"
    "Python said: ${_vk_torch_err}")
endif()
string(REPLACE "\n" ";" _vk_torch_lines "${_vk_torch_out}")
list(GET _vk_torch_lines 0 _vk_torch_prefix)
list(GET _vk_torch_lines 1 VK_TORCH_VERSION)
list(GET _vk_torch_lines 2 VK_TORCH_CUDA)
list(GET _vk_torch_lines 3 VK_TORCH_CXX11_ABI)

list(APPEND CMAKE_PREFIX_PATH "${_vk_torch_prefix}")
find_package(Torch REQUIRED CONFIG)
message(STATUS "vk-ops: torch ${VK_TORCH_VERSION} (CUDA: '${VK_TORCH_CUDA}') from ${_vk_torch_prefix}")
