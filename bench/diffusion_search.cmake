# AutoDiffusion's search on the exact mixture denoiser: uniform / trailing / quadratic vs searched
# FD at K = 4, 6, 10 with DDIM and DPM-Solver++(2M), and samples x steps per second.
evolv_add_bench(diffusion_search SOURCES ${PROJECT_SOURCE_DIR}/bench/diffusion_search.cc
                LIBS evolv_actors evolv_diffusion)
