# Interpreted vs natively compiled numerics programs (evaluators/numerics/interpreter.h).
evolv_add_bench(numerics_throughput
  SOURCES ${PROJECT_SOURCE_DIR}/bench/numerics_throughput.cc
  LIBS evolv_numerics)
