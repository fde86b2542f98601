# Interpreted vs natively compiled numerics programs (evaluators/numerics/interpreter.h).
evolv_add_bench(numerics_throughput
  SOURCES ${PROJECT_SOURCE_DIR}/bench/numerics_throughput.cc
          ${PROJECT_SOURCE_DIR}/bench/numerics_native_march.cc
  LIBS evolv_numerics)
# The second native baseline: this machine's full instruction set, no contraction (same results).
set_source_files_properties(${PROJECT_SOURCE_DIR}/bench/numerics_native_march.cc PROPERTIES
                            COMPILE_OPTIONS "-march=native;-ffp-contract=off")
