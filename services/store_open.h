// Opening the store for a program that serves a problem registry (evolvd, `evolv run`): stores
// of schema 1 are upgraded in place with the registry's schema-1 slots
// (storage/schema_migration.h).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "search/problem_registry.h"
#include "storage/store.h"

namespace evolv {

// `repair`: StoreOptions::repair (a damaged write-ahead log is replayed up to the damage; the
// caller reports Store::repair_report()).
absl::StatusOr<std::unique_ptr<Store>> OpenStoreFor(const std::string& dir,
                                                    const ProblemRegistry& registry,
                                                    bool repair = false);

}  // namespace evolv
