# Service benchmarks: they start the real evolvd (its path compiled in) and talk gRPC to it.
#   service_latency: GetJob/ListJobs p50/p99 at 200 req/s while 4 jobs run, and the jobs'
#                    throughput with and without that load.
#   service_resume:  time from evolvd start to every job resumed, with 1,000,000 cached
#                    evaluations in the store.
#   service_memory:  RSS of evolvd (empty, 100 finished jobs, 4 running jobs of 1,000,000
#                    history rows each) and of an evolv-worker.
if(TARGET evolvd)
  evolv_add_bench(service_latency SOURCES service_latency.cc LIBS evolv_grpc)
  target_compile_definitions(service_latency PRIVATE EVOLVD_PATH="$<TARGET_FILE:evolvd>")
  add_dependencies(service_latency evolvd)
  evolv_add_bench(service_resume SOURCES service_resume.cc LIBS evolv_grpc evolv_storage)
  target_compile_definitions(service_resume PRIVATE EVOLVD_PATH="$<TARGET_FILE:evolvd>")
  add_dependencies(service_resume evolvd)
  if(TARGET evolv-worker)
    evolv_add_bench(service_memory SOURCES service_memory.cc LIBS evolv_grpc evolv_storage)
    target_compile_definitions(service_memory PRIVATE EVOLVD_PATH="$<TARGET_FILE:evolvd>"
                                                      EVOLV_WORKER_PATH="$<TARGET_FILE:evolv-worker>")
    add_dependencies(service_memory evolvd evolv-worker)
  endif()
endif()
