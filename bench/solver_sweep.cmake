# One SOR sweep of evolv's RelaxationSolver vs a hand-written CSR loop (target ratio >= 0.8).
evolv_add_bench(solver_sweep SOURCES ${PROJECT_SOURCE_DIR}/bench/solver_sweep.cc LIBS evolv_solver)
