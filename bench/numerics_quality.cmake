# Searched numerics programs vs the best classical baselines, per target (bench/numerics_quality.cc).
evolv_add_bench(numerics_quality SOURCES ${PROJECT_SOURCE_DIR}/bench/numerics_quality.cc
                LIBS evolv_actors evolv_numerics evolv_services)
