// evolvd's whole program over a given problem registry: flags, store, actor system, gRPC and
// HTTP servers, shutdown (see server.cc's header for the flags and exit codes). The evolvd binary
// runs it with the built-in domains; tests run it with domains of their own.
#pragma once

#include "search/problem_registry.h"

namespace evolv {

// Runs evolvd until SIGTERM/SIGINT; returns the process exit code. `registry` must outlive it.
int RunEvolvd(int argc, char** argv, const ProblemRegistry& registry);

}  // namespace evolv
