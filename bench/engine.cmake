evolv_add_bench(engine_farming SOURCES ${PROJECT_SOURCE_DIR}/bench/engine_farming.cc
                LIBS evolv_actors)
evolv_add_bench(cache_search SOURCES ${PROJECT_SOURCE_DIR}/bench/cache_search.cc
                LIBS evolv_actors)
evolv_add_bench(cluster_dispatch SOURCES ${PROJECT_SOURCE_DIR}/bench/cluster_dispatch.cc
                LIBS evolv_actors)
evolv_add_bench(cache_contract SOURCES ${PROJECT_SOURCE_DIR}/bench/cache_contract.cc
                LIBS evolv_actors)
