// The diffusion domain's command-line tools, offered through the registry (evolv NAME SPEC ...):
// `evolv train-denoiser SPEC [--out MODEL]` trains the learned denoiser a spec names.
#pragma once

#include <vector>

#include "search/problem_registry.h"

namespace evolv {

std::vector<DomainCommand> DiffusionCommands();

}  // namespace evolv
