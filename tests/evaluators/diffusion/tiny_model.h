// A small learned-denoiser spec and its model, trained in well under a second, for the tests of
// the learned denoiser and the joint search.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "evaluators/diffusion/learned_denoiser.h"
#include "evolv/v1/diffusion.pb.h"
#include "evolv/v1/strategy.pb.h"

namespace evolv::testing {

// d 4, 3 components, K 4, N 200; a denoiser of 3 blocks of width 16 stored at `model_path`.
inline v1::DiffusionSpec TinyLearnedSpec(const std::string& model_path) {
  v1::DiffusionSpec spec;
  spec.mutable_mixture()->set_dimension(4);
  spec.mutable_mixture()->set_components(3);
  spec.mutable_mixture()->set_seed(2);
  spec.set_steps(4);
  spec.set_samples(200);
  v1::LearnedDenoiserSpec* denoiser = spec.mutable_denoiser();
  denoiser->set_model(model_path);
  denoiser->set_blocks(3);
  denoiser->set_width(16);
  denoiser->set_training_steps(400);
  denoiser->set_batch(64);
  denoiser->set_learning_rate(3e-3);
  denoiser->set_seed(5);
  return spec;
}

// Trains the spec's model and writes it to its path; fails the test on an error.
inline v1::DenoiserModel WriteTinyModel(const v1::DiffusionSpec& spec) {
  auto model = TrainDenoiser(spec);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return v1::DenoiserModel();
  const absl::Status written = WriteDenoiserModel(*model, spec.denoiser().model());
  EXPECT_TRUE(written.ok()) << written;
  return *model;
}

// A small two-stage top-k evolution for the tiny spec with `joint.block_budget` 9 (steps-only
// candidates have 3 steps): 2 steps-only generations of 12, then 6 joint ones whose allowance
// opens by the stage's generation 2 and grows by 0.1 to 0.34, one skipped block of 3 per step.
inline v1::TopKEvolutionConfig TinyJointConfig() {
  v1::TopKEvolutionConfig config;
  config.set_population(12);
  config.set_top_k(4);
  config.set_mutants(6);
  config.set_crossovers(3);
  config.set_initial_random(5);
  config.set_generations(2);
  v1::TopKEvolutionStage* joint = config.add_stages();
  joint->set_generations(6);
  joint->set_crossovers(4);
  joint->set_allowance_step(0.1);
  joint->set_allowance_cap(0.34);  // round(0.34 * 3) = 1 block of 3
  joint->set_open_by(2);
  return config;
}

}  // namespace evolv::testing
