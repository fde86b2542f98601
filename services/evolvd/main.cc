// evolvd with the built-in domains; the server itself is services/evolvd/server.h.
#include "evaluators/registry.h"
#include "services/evolvd/server.h"

int main(int argc, char** argv) { return evolv::RunEvolvd(argc, argv, evolv::BuiltinProblems()); }
