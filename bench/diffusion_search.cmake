# AutoDiffusion's search on the exact mixture denoiser: uniform / trailing / quadratic vs searched
# FD at K = 4, 6, 10 with DDIM and DPM-Solver++(2M), and samples x steps per second.
evolv_add_bench(diffusion_search SOURCES ${PROJECT_SOURCE_DIR}/bench/diffusion_search.cc
                LIBS evolv_actors evolv_diffusion)

# The learned residual-MLP denoiser: training, skipping blocks with and without layer-drop,
# schedules carried over from the exact denoiser, and the joint search of steps and skipped
# blocks against the steps-only search at the same block budget.
evolv_add_bench(diffusion_joint SOURCES ${PROJECT_SOURCE_DIR}/bench/diffusion_joint.cc
                LIBS evolv_actors evolv_diffusion)

# Fashion-MNIST on 32 principal components with a learned denoiser: uniform / trailing /
# quadratic vs searched feature FD at K = 4 with both samplers, and the figures of the search.
evolv_add_bench(diffusion_images SOURCES ${PROJECT_SOURCE_DIR}/bench/diffusion_images.cc
                LIBS evolv_actors evolv_diffusion)
