// This machine's memory, as the kernel reports it (sysconf).
#pragma once

#include <cstdint>

namespace owl {

uint64_t total_memory_bytes();

}  // namespace owl
