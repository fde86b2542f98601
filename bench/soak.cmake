# soak: load and soak under crashes. A real evolvd with remote evolv-worker processes (paths
# compiled in), mixed requests at a fixed rate, kill -9 of evolvd and of a worker in turn; then
# checks that no acknowledged job or stored evaluation is lost and that finished jobs' histories
# equal uninterrupted runs. Default 300 s; `--seconds 3600 --kill-every 120` for the hour.
if(TARGET evolvd AND TARGET evolv-worker)
  evolv_add_bench(soak SOURCES ${PROJECT_SOURCE_DIR}/bench/soak.cc LIBS evolv_grpc)
  target_compile_definitions(soak PRIVATE EVOLVD_PATH="$<TARGET_FILE:evolvd>"
                                          EVOLV_WORKER_PATH="$<TARGET_FILE:evolv-worker>")
  add_dependencies(soak evolvd evolv-worker)
endif()
