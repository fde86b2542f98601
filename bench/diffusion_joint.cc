// The learned denoiser of issue 9 on the mixture d = 16, 8 components (seed 1), cosine, DDIM:
//
//   1. training: three residual MLPs trained by evolv (8 blocks of width 128 with and without
//      layer-drop p = 0.1, and 8 blocks of width 64 with it for the joint searches), time and
//      held-out loss;
//   2. skipping blocks at K = 10 (uniform, N 2,000): FD with no block skipped, with block b
//      skipped at every step (b = 0 and the worst b), and with one random block per step;
//   3. schedules carried over: for K = 4, 6, 10 the best schedule of `seeds` searches with the
//      exact denoiser (top-k evolution, paper defaults, 500 evaluations), scored with the exact
//      and with the learned (width 128) denoiser of the same mixture, beside uniform;
//   4. joint vs steps-only at block budgets of 60 % and 80 % of 10 unskipped steps (48 and 64 of
//      80 block evaluations): `seeds` searches each on the width-64 model with N = `samples`
//      fixed noises (population 50, top-k 10, 25 mutants, 15 crossovers; `steps_generations` (10)
//      steps-only generations, then `joint_generations` (15) joint ones with 10 crossovers whose allowance opens by their generation 1 and grows
//      by 0.0625 to 0.25, two blocks of 8 per step; the steps-only search has the same stages with
//      no allowance, so it keeps the whole steps that fit, 6 and 8). The best of each search is
//      scored again on 2,000 held-out noises (noise seed 1), since the search's own noises
//      favour what was selected on them.
// Medians over seeds with min..max. Independent searches run on two threads.
//
//   build/bench/diffusion_joint [seeds=3] [samples=500] [joint_generations=15]
//                               [training_steps=3000] (fewer: a quick smoke run)
//                               [steps_generations=10]
// (10 then 15 generations is the paper's composition.)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/diffusion_bench_search.h"
#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/diffusion/learned_denoiser.h"
#include "evaluators/registry.h"
#include "evolv/v1/diffusion.pb.h"
#include "search/strategy.h"
#include "tests/support/temp_dir.h"

using namespace evolv;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

v1::DiffusionSpec Mixture(int k) {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(16);
  spec.mutable_mixture()->set_components(8);
  spec.mutable_mixture()->set_seed(1);
  spec.set_schedule(v1::DiffusionSpec::COSINE);
  spec.set_sampler(v1::DiffusionSpec::DDIM);
  spec.set_steps(k);
  return spec;
}

// The best result of one search run to its budget through JobEngine (in order, one thread).
v1::HistoryEntry SearchOnce(const v1::DiffusionSpec& diffusion,
                            const v1::TopKEvolutionConfig& config, uint64_t evaluations,
                            uint64_t seed) {
  return RunTopKSearch(diffusion, config, evaluations, seed);
}

struct Model {
  std::string name;
  int width;
  double layer_drop;
  std::string path;
  v1::DenoiserModel trained;
  double seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 3;
  const int samples = argc > 2 ? std::atoi(argv[2]) : 500;
  const int joint_generations = argc > 3 ? std::atoi(argv[3]) : 15;
  const int training_steps = argc > 4 ? std::atoi(argv[4]) : 3000;
  const int steps_generations = argc > 5 ? std::atoi(argv[5]) : 10;
  const auto start = std::chrono::steady_clock::now();
  TempDir dir;

  // 1. Training.
  std::vector<Model> models = {{"8 x 128, layer-drop 0.1", 128, 0.1, dir.Sub("drop.model"), {}},
                               {"8 x 128, no layer-drop", 128, 0.0, dir.Sub("plain.model"), {}},
                               {"8 x 64, layer-drop 0.1", 64, 0.1, dir.Sub("small.model"), {}}};
  auto learned_spec = [&](const Model& m, int k) {
    v1::DiffusionSpec spec = Mixture(k);
    v1::LearnedDenoiserSpec* d = spec.mutable_denoiser();
    d->set_model(m.path);
    d->set_width(m.width);
    d->set_layer_drop(m.layer_drop);
    d->set_training_steps(training_steps);
    d->set_seed(1);
    return spec;
  };
  {
    std::vector<std::function<void()>> tasks;
    for (Model& m : models) {
      tasks.push_back([&] {
        const auto t0 = std::chrono::steady_clock::now();
        auto trained = TrainDenoiser(learned_spec(m, 10));
        if (!trained.ok() || !WriteDenoiserModel(*trained, m.path).ok()) {
          std::fprintf(stderr, "training %s failed\n", m.name.c_str());
          std::exit(1);
        }
        m.trained = *trained;
        m.seconds = Seconds(t0);
      });
    }
    RunAll(tasks);
  }
  std::printf(
      "Gaussian mixture d 16, 8 components (seed 1), cosine, DDIM. Denoisers trained by evolv: "
      "%d Adam steps of 256 samples (two trainings at a time on 2 cores)\n\n",
      training_steps);
  std::printf("%-26s %10s %10s %12s\n", "model", "train (s)", "loss", "held-out loss");
  for (const Model& m : models) {
    std::printf("%-26s %10.1f %10.4f %12.4f\n", m.name.c_str(), m.seconds, m.trained.initial_loss(),
                m.trained.final_loss());
  }

  // 2. Skipping blocks at K = 10.
  std::printf("\nK = 10 uniform, N 2000 (exact denoiser: %.4f): FD when blocks are skipped\n",
              Create(Mixture(10))->Score(UniformSteps(10), SamplerKind::kDdim).fd);
  std::printf("%-26s %10s %14s %14s %22s\n", "model", "none", "block 0 always", "worst b always",
              "one random per step");
  for (int i = 0; i < 2; ++i) {
    auto problem = Create(learned_spec(models[i], 10));
    std::vector<double> fd(8), random(3);
    double none = 0;
    std::vector<std::function<void()>> tasks;
    tasks.push_back([&] { none = problem->Score(UniformSteps(10), SamplerKind::kDdim).fd; });
    for (int b = 0; b < 8; ++b) {
      tasks.push_back([&, b] {
        const StepPlan plan{UniformSteps(10), std::vector<std::vector<int>>(10, {b})};
        fd[b] = problem->Score(plan, SamplerKind::kDdim).fd;
      });
    }
    for (int r = 0; r < 3; ++r) {
      tasks.push_back([&, r] {
        Rng rng(100 + r);
        StepPlan plan{UniformSteps(10), {}};
        for (int s = 0; s < 10; ++s) plan.skipped.push_back({static_cast<int>(rng.Below(8))});
        random[r] = problem->Score(plan, SamplerKind::kDdim).fd;
      });
    }
    RunAll(tasks);
    std::printf("%-26s %10.4f %14.4f %14.4f %22s\n", models[i].name.c_str(), none, fd[0],
                *std::max_element(fd.begin(), fd.end()), Show(Of(random)).c_str());
  }
  std::fflush(stdout);

  // 3. Schedules searched with the exact denoiser, carried over to the learned one.
  std::printf(
      "\nSchedules searched with the exact denoiser (500 evaluations, %d seeds), scored with the "
      "learned denoiser (8 x 128, layer-drop 0.1), N 2000\n",
      seeds);
  std::printf("%3s %10s %24s %10s %24s %s\n", "K", "exact: uni", "exact: searched", "learned: uni",
              "learned: searched", "  (schedule of seed 1)");
  for (int k : {4, 6, 10}) {
    std::vector<v1::HistoryEntry> best(seeds);
    std::vector<std::function<void()>> tasks;
    for (int s = 0; s < seeds; ++s) {
      tasks.push_back(
          [&, s] { best[s] = SearchOnce(Mixture(k), v1::TopKEvolutionConfig(), 500, s + 1); });
    }
    RunAll(tasks);
    auto exact = Create(Mixture(k));
    auto learned = Create(learned_spec(models[0], k));
    std::vector<double> on_exact, on_learned(seeds);
    tasks.clear();
    for (int s = 0; s < seeds; ++s) {
      on_exact.push_back(best[s].evaluation().objectives(0));
      tasks.push_back([&, s] {
        on_learned[s] =
            learned->Score(*learned->PlanOf(best[s].candidate()), SamplerKind::kDdim).fd;
      });
    }
    double learned_uniform = 0;
    tasks.push_back(
        [&] { learned_uniform = learned->Score(UniformSteps(k), SamplerKind::kDdim).fd; });
    RunAll(tasks);
    std::printf("%3d %10.4f %24s %10.4f %24s   %s\n", k,
                exact->Score(UniformSteps(k), SamplerKind::kDdim).fd, Show(Of(on_exact)).c_str(),
                learned_uniform, Show(Of(on_learned)).c_str(),
                exact->Render(best[0].candidate(), RenderFormat::kText).c_str());
    std::fflush(stdout);
  }

  // 4. Joint vs steps-only at 60 % and 80 % of 10 unskipped steps.
  v1::TopKEvolutionConfig joint;  // steps_generations + joint_generations generations
  joint.set_generations(steps_generations);
  v1::TopKEvolutionStage* stage = joint.add_stages();
  stage->set_generations(joint_generations);
  stage->set_crossovers(10);
  stage->set_allowance_step(0.0625);  // one block of 8 per generation (0.02 is 0.16 of a block)
  stage->set_allowance_cap(0.25);
  stage->set_open_by(1);
  v1::TopKEvolutionConfig steps_only = joint;
  steps_only.mutable_stages(0)->set_allowance_cap(0);
  const uint64_t evaluations = 50ull * (steps_generations + joint_generations);
  std::printf(
      "\nJoint (steps + skipped blocks) vs steps-only search at the same block budget, K <= 10, "
      "model 8 x 64 with layer-drop, N %d search noises; %llu evaluations each, %d seeds. FD of "
      "the best on its search noises, then on 2,000 held-out noises\n",
      samples, static_cast<unsigned long long>(evaluations), seeds);
  std::printf("%-14s %-11s %24s %24s   %s\n", "budget", "search", "FD (search noises)",
              "FD (held-out)", "best of seed 1");
  for (int budget : {48, 64}) {
    v1::DiffusionSpec spec = learned_spec(models[2], 10);
    spec.set_samples(samples);
    spec.mutable_joint()->set_block_budget(budget);
    v1::DiffusionSpec held_out_spec = spec;
    held_out_spec.set_samples(2000);
    held_out_spec.set_noise_seed(1);
    auto held_out = Create(held_out_spec);
    struct Row {
      const char* name;
      const v1::TopKEvolutionConfig* config;
      std::vector<v1::HistoryEntry> best;
      std::vector<double> held;
    };
    std::vector<Row> rows = {
        {"steps only", &steps_only, std::vector<v1::HistoryEntry>(seeds),
         std::vector<double>(seeds)},
        {"joint", &joint, std::vector<v1::HistoryEntry>(seeds), std::vector<double>(seeds)}};
    std::vector<std::function<void()>> tasks;
    for (Row& row : rows) {
      for (int s = 0; s < seeds; ++s) {
        tasks.push_back([&, s] {
          row.best[s] = SearchOnce(spec, *row.config, evaluations, s + 1);
          row.held[s] =
              held_out->Score(*held_out->PlanOf(row.best[s].candidate()), SamplerKind::kDdim).fd;
        });
      }
    }
    RunAll(tasks);
    for (const Row& row : rows) {
      std::vector<double> search;
      for (const auto& b : row.best) search.push_back(b.evaluation().objectives(0));
      const auto& first = row.best[0];
      std::printf(
          "%-14s %-11s %24s %24s   %s (%g blocks)\n",
          (std::to_string(budget) + " (" + std::to_string(budget * 100 / 80) + " %)").c_str(),
          row.name, Show(Of(search)).c_str(), Show(Of(row.held)).c_str(),
          held_out->Render(first.candidate(), RenderFormat::kText).c_str(),
          first.evaluation().metrics().at("block_evaluations"));
    }
    std::fflush(stdout);
  }
  std::printf("\ntotal %.0f s\n", Seconds(start));
  return 0;
}
