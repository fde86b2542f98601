# What each domain's CUDA project (evaluators/<domain>/cuda/CMakeLists.txt) does around its
# project() call, so that it builds both inside the main build and on its own with nvcc and
# CMake alone (a GPU machine without the project's Debian libraries). Included before project():
#   include(${CMAKE_CURRENT_SOURCE_DIR}/../../common/cuda_standalone.cmake)
#   if(EVOLV_CUDA_STANDALONE)
#     project(<name> LANGUAGES CXX CUDA)
#   endif()
#   evolv_cuda_setup()
if(CMAKE_SOURCE_DIR STREQUAL CMAKE_CURRENT_SOURCE_DIR)
  set(EVOLV_CUDA_STANDALONE ON)
  # Turing, Ampere and Hopper as machine code, and Hopper's PTX for later devices to compile (set
  # before the language is enabled, which would pick the compiler's default otherwise).
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 75-real 80-real 90)
  endif()
else()
  set(EVOLV_CUDA_STANDALONE OFF)
endif()

# After project(): C++17 on both compilers, tests when standalone, EVOLV_CUDA_ROOT (the
# repository's root, the include directory) and the CUDA toolkit's targets.
macro(evolv_cuda_setup)
  if(EVOLV_CUDA_STANDALONE)
    set(CMAKE_CXX_STANDARD 17)
    set(CMAKE_CXX_STANDARD_REQUIRED ON)
    enable_testing()
    get_filename_component(EVOLV_CUDA_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/../../.. ABSOLUTE)
  else()
    set(EVOLV_CUDA_ROOT ${PROJECT_SOURCE_DIR})
  endif()
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  find_package(CUDAToolkit REQUIRED)
endmacro()
