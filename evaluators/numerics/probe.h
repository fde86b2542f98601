// The numerics domain's functional probe: the bytes a candidate's cache key is made of
// (Problem::Probe), chosen so that candidates sharing a key evaluate alike (see
// numerics_problem.h for the contract a hit keeps).
//
// An evaluation depends on the function a program computes and on the structure the fit works
// with, so the probe holds both:
//   - structural facts that set objectives or the fit: the cost (objective 1), the number of live
//     instructions (metric "instructions") and the number of free constants (live constants, the
//     fit's parameters);
//   - the function: outputs on fixed inputs: both ends of the interval (every fit and
//     validation set holds them; singularities such as x/x at 0 sit there) and golden-ratio
//     fractions of the interval. REAL mode: kPoints outputs computed in long double, kept to 24
//     of double's 52 mantissa bits (as the published NAS code truncates). FLOAT32 mode:
//     kFloatPoints outputs computed in float exactly as evaluation runs the program (constants
//     and inputs rounded to float, every intermediate rounded), all 32 bits kept, so programs
//     equal in real arithmetic but rounding differently stay apart; rounding differences are
//     sparse, hence the more points. Evaluation runs the program at its fitted constants, so
//     the float outputs with every constant scaled by kFloatStep are included too;
//   - how the function depends on each free constant: the derivatives by it at the first kPoints
//     inputs (long double, 24 bits), with, in FLOAT32 mode, the constant's float (evaluation
//     starts from it). Sorted, so the order of the constants does not matter; x * c and x / c'
//     (c' = 1/c) compute the same function but are fitted along different paths, and stay
//     apart.
// NaN outputs are canonicalized. Dead code and the order of independent instructions do not
// matter; x*2 and 2*x share a probe, x*2 and x+x do not (one free constant against none).
//
// Immutable after construction; Bytes is const and thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

class FunctionalProbe {
 public:
  static constexpr int kPoints = 18;
  static constexpr int kFloatPoints = 128;

  // Probes on [lower, upper] (finite, lower < upper), in float when `float32`.
  FunctionalProbe(double lower, double upper, bool float32);

  // The probe bytes of `p` (valid, see Validate): 12 bytes of structural facts, the outputs
  // (REAL: kPoints x 8 bytes; FLOAT32: kFloatPoints x 4 bytes), then one column per free
  // constant (kPoints x 8 bytes, FLOAT32: and 4 more).
  std::string Bytes(const Program& p) const;

  // The free constants (indices into p.constants) in the probe's canonical order: by how each
  // enters the function (its derivative column; FLOAT32: and its float), ties by value. Programs
  // sharing a probe list corresponding constants at the same positions, so a fit that treats
  // constants in this order (restarts included) treats them alike.
  std::vector<size_t> CanonicalConstantOrder(const Program& p) const;

  // The first kPoints inputs, in long double (FLOAT32 mode: already rounded to float).
  const std::vector<long double>& inputs() const { return x_; }

  // The factor the FLOAT32 probe's second run scales every constant by: far enough that exact
  // cancellations at the given constants (Sterbenz) do not carry over, fixed and irregular.
  static constexpr double kFloatStep = 0.7390851332151607;

 private:
  struct Analysis {
    std::string outputs;  // kPoints long double outputs, 24 bits
    // Per free constant: its column bytes and its index, in canonical order.
    std::vector<std::pair<std::string, size_t>> columns;
  };
  Analysis Analyze(const Program& p) const;

  bool float32_;
  std::vector<long double> x_;
  std::vector<float> x_float_;
};

// Live constants of `p`: the parameters its fit adjusts.
int FreeConstants(const Program& p);

}  // namespace evolv::numerics
