evolv_add_bench(pareto_sort SOURCES ${PROJECT_SOURCE_DIR}/bench/pareto_sort.cc LIBS evolv_search)
