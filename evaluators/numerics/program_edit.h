// Structural edits of a Program that keep it valid: they renumber operands so that every
// instruction still reads the value it read before (or, for RemoveInstruction, the replacement).
// The search's mutations (mutator.h) are built from these.
//
// Pure functions on a value type; thread-safe on distinct programs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "evaluators/numerics/program.h"

namespace evolv::numerics {

// Appends `value` as a new constant and returns its value index (1 + the old constant count).
// Instruction values move up by one; operands are renumbered so the function is unchanged.
uint32_t AddConstant(Program& p, double value);

// Inserts `in` before instruction `pos` (pos <= instructions.size()); `in`'s operands must be
// values earlier than instruction `pos`. Later operands are renumbered, so the function is
// unchanged unless a later instruction is rewired to read the new value.
void InsertInstruction(Program& p, size_t pos, Instruction in);

// Removes instruction `pos`; instructions that read it read `replacement` (a value earlier than
// instruction `pos`) instead, and later operands are renumbered.
void RemoveInstruction(Program& p, size_t pos, uint32_t replacement);

// The same program with its constants reordered: constant i of the result is constant
// first[i] of `p` (distinct indices), then the others follow in their order in `p`. Operands are
// renumbered, so the function is unchanged.
Program ReorderConstants(const Program& p, const std::vector<size_t>& first);

}  // namespace evolv::numerics
