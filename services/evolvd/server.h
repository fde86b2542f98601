// evolvd's whole program over a given problem registry: flags, store, actor system, gRPC and
// HTTP servers, shutdown (see server.cc's header for the flags and exit codes). The evolvd binary
// runs it with the built-in domains; tests run it with domains of their own.
#pragma once

#include "search/problem_registry.h"

namespace evolv {

// Runs evolvd until SIGTERM/SIGINT, or until a core actor (the job manager, the dispatcher)
// goes down while it serves; returns the process exit code: 0 after a signal,
// 70 after a core actor went down (or ends the process with 70 itself when that shutdown takes
// over 15 s), 1 or 2 as server.cc's header says. `registry` must outlive it.
int RunEvolvd(int argc, char** argv, const ProblemRegistry& registry);

}  // namespace evolv
