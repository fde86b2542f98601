// Gamma and Beta variates on top of evolv::Rng (so sequences are reproducible across standard
// libraries, unlike std::gamma_distribution).
#pragma once

#include "search/rng.h"

namespace evolv {

// Gamma(shape, 1), shape > 0: Marsaglia-Tsang squeeze for shape >= 1; for shape < 1 the boost
// Gamma(shape) = Gamma(shape + 1) * U^(1 / shape).
double SampleGamma(Rng& rng, double shape);

// Beta(a, b), a, b > 0, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
double SampleBeta(Rng& rng, double a, double b);

}  // namespace evolv
