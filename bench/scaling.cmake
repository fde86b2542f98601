# Fast and Accurate Model Scaling: the named strategies at s = 2, 4, 8 on Fashion-MNIST, their
# activation exponents, error and runtime, and runtime's correlation with flops and activations.
evolv_add_bench(scaling_sweep SOURCES ${PROJECT_SOURCE_DIR}/bench/scaling_sweep.cc
                LIBS evolv_scaling)
# One scaling evaluation's peak memory against the estimate candidates are refused by.
evolv_add_bench(scaling_memory SOURCES ${PROJECT_SOURCE_DIR}/bench/scaling_memory.cc
                LIBS evolv_scaling)
