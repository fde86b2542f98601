#include "actors/cache_policy.h"

namespace evolv {
namespace {

v1::CachedEvaluation NewRow(const v1::Evaluation& evaluation) {
  v1::CachedEvaluation row;
  *row.mutable_evaluation() = evaluation;
  row.set_repeats(1);
  return row;
}

class CachePolicyImpl : public CachePolicy {
 public:
  PlanDecision Plan(const v1::CachedEvaluation* row, uint32_t in_flight) const override {
    if (row != nullptr) return {PlanAction::kReuse, 0};
    if (in_flight > 0) return {PlanAction::kFollow, 0};
    return {PlanAction::kEvaluate, 0};
  }

  TellOutcome Tell(const TellInput& in) const override {
    TellOutcome out;
    if (in.fresh != nullptr) {
      out.told = *in.fresh;
      out.miss = true;
      if (in.fresh->status() == v1::OK) out.row = NewRow(*in.fresh);
    } else if (in.row != nullptr) {
      out.told = in.row->evaluation();
      out.hit = true;
    } else {
      out.ready = false;  // the twin it followed failed: evaluate this one
    }
    return out;
  }
};

class AggregatePolicy : public CachePolicy {
 public:
  explicit AggregatePolicy(uint32_t repeats) : repeats_(repeats) {}

  PlanDecision Plan(const v1::CachedEvaluation* row, uint32_t in_flight) const override {
    const uint32_t have = row ? row->repeats() : 0;
    if (have + in_flight >= repeats_) {
      return {have > 0 ? PlanAction::kReuse : PlanAction::kFollow, 0};
    }
    return {PlanAction::kEvaluate, have + in_flight};
  }

  TellOutcome Tell(const TellInput& in) const override {
    TellOutcome out;
    if (in.fresh != nullptr) {
      out.miss = true;
      if (in.fresh->status() == v1::OK) {
        out.row = AddRepeat(in.row, *in.fresh);
        out.told = out.row->evaluation();
      } else {
        out.told = in.row ? in.row->evaluation() : *in.fresh;  // a failed repeat changes nothing
      }
    } else if (in.row != nullptr) {
      out.told = in.row->evaluation();
      out.hit = true;
    } else {
      out.ready = false;
    }
    return out;
  }

 private:
  uint32_t repeats_;
};

class CounterfactualPolicy : public CachePolicy {
 public:
  explicit CounterfactualPolicy(const Problem& problem) : problem_(problem) {}

  PlanDecision Plan(const v1::CachedEvaluation*, uint32_t) const override {
    return {PlanAction::kEvaluate, 0};
  }

  TellOutcome Tell(const TellInput& in) const override {
    TellOutcome out;
    out.told = *in.fresh;
    if (in.row != nullptr) {
      out.hit = true;
      const Problem::HitDifference d = problem_.CompareHit(in.row->evaluation(), *in.fresh);
      out.difference = d.difference;
      out.collision = !d.within;
    } else {
      out.miss = true;
      if (in.fresh->status() == v1::OK) out.row = NewRow(*in.fresh);
    }
    return out;
  }

 private:
  const Problem& problem_;
};

class OffPolicy : public CachePolicy {
 public:
  PlanDecision Plan(const v1::CachedEvaluation*, uint32_t) const override {
    return {PlanAction::kEvaluate, 0};
  }
  TellOutcome Tell(const TellInput& in) const override {
    TellOutcome out;
    out.told = *in.fresh;
    out.miss = true;
    return out;
  }
};

}  // namespace

v1::CachedEvaluation AddRepeat(const v1::CachedEvaluation* row, const v1::Evaluation& fresh) {
  if (row == nullptr || row->repeats() == 0) return NewRow(fresh);
  v1::CachedEvaluation out = *row;
  const double n = row->repeats();
  v1::Evaluation& mean = *out.mutable_evaluation();
  if (mean.objectives_size() == fresh.objectives_size()) {
    for (int i = 0; i < mean.objectives_size(); ++i) {
      mean.set_objectives(i, (mean.objectives(i) * n + fresh.objectives(i)) / (n + 1));
    }
  }
  for (const auto& [name, value] : fresh.metrics()) {
    auto it = mean.mutable_metrics()->find(name);
    if (it == mean.mutable_metrics()->end()) {
      (*mean.mutable_metrics())[name] = value;
    } else {
      it->second = (it->second * n + value) / (n + 1);
    }
  }
  out.set_repeats(row->repeats() + 1);
  return out;
}

std::unique_ptr<CachePolicy> MakeCachePolicy(v1::CacheMode mode, uint32_t aggregate_repeats,
                                             const Problem& problem) {
  switch (mode) {
    case v1::AGGREGATE:
      return std::make_unique<AggregatePolicy>(aggregate_repeats);
    case v1::COUNTERFACTUAL:
      return std::make_unique<CounterfactualPolicy>(problem);
    case v1::OFF:
      return std::make_unique<OffPolicy>();
    case v1::CACHE:
    default:
      return std::make_unique<CachePolicyImpl>();
  }
}

}  // namespace evolv
