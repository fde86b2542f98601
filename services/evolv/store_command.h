// `evolv store verify --data-dir DIR`: checks a store (storage/store_verify.h) and prints what
// was checked and what is damaged, with the way out (docs/adr/0019-store-integrity.md).
#pragma once

#include <string>

namespace evolv {

// Prints the report on stdout. Reads only; works while evolvd has the store open.
// Exit codes: 0 the store is intact, 1 it is damaged (each damaged file or row on its own line)
// or cannot be read, 2 `data_dir` holds no evolv store.
int StoreVerifyCommand(const std::string& data_dir);

}  // namespace evolv
