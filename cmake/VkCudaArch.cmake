# CUDA architecture selection for vk-ops.
#
# vk_cuda_architectures(<out_var>) turns TORCH_CUDA_ARCH_LIST (the variable PyTorch's own extension builds use,
# e.g. "7.5;8.0;8.6+PTX" or "7.5 8.0 8.6+PTX") into CMAKE_CUDA_ARCHITECTURES syntax: "X.Y" becomes SASS only
# ("XY-real"), "X.Y+PTX" adds PTX for forward compatibility ("XY"). Without TORCH_CUDA_ARCH_LIST the architectures
# torch itself was compiled for are used, so the kernels run everywhere torch does.

function(vk_cuda_architectures out_var)
  set(arch_list "$ENV{TORCH_CUDA_ARCH_LIST}")
  if(arch_list STREQUAL "")
    execute_process(
      COMMAND "${Python_EXECUTABLE}" -c
              "import torch; print(';'.join(a[3:4] + '.' + a[4:] if len(a) == 5 else a[3:-1] + '.' + a[-1] for a in torch.cuda.get_arch_list() if a.startswith('sm_')))"
      OUTPUT_VARIABLE arch_list
      OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  if(arch_list STREQUAL "")
    message(FATAL_ERROR "vk-ops: no CUDA architectures: set TORCH_CUDA_ARCH_LIST, e.g. \"8.0;9.0+PTX\"")
  endif()
  string(REPLACE " " ";" arch_list "${arch_list}")
  set(result "")
  foreach(arch IN LISTS arch_list)
    if(arch STREQUAL "")
      continue()
    endif()
    set(with_ptx OFF)
    if(arch MATCHES "\\+PTX$")
      set(with_ptx ON)
      string(REGEX REPLACE "\\+PTX$" "" arch "${arch}")
    endif()
    if(NOT arch MATCHES "^[0-9]+\\.[0-9]+[a-z]?$")
      message(FATAL_ERROR "vk-ops: TORCH_CUDA_ARCH_LIST entry '${arch}' is not of the form 8.0, 9.0a or 8.6+PTX")
    endif()
    string(REPLACE "." "" code "${arch}")
    if(with_ptx)
      list(APPEND result "${code}")
    else()
      list(APPEND result "${code}-real")
    endif()
  endforeach()
  set(${out_var} "${result}" PARENT_SCOPE)
endfunction()
