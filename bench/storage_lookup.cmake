# storage_lookup: point-lookup latency of the evaluation cache (run by hand; not a test).
evolv_add_bench(storage_lookup
  SOURCES ${PROJECT_SOURCE_DIR}/bench/storage_lookup.cc
  LIBS evolv_storage)
