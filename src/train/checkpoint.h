// The parts of a training checkpoint that owl finetune and owl train share: the optimizer's moments
// (safetensors, m.I and v.I per tensor), state.json (the step and the options the run must resume
// with), and finding the checkpoint after a kill (a directory is replaced by moving the old one to
// DIR.owl-old first: base/atomic_write.h atomic_write_directory).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/optimizer.h"

namespace owl::train {

void write_optimizer_state(AdamW& opt, const std::filesystem::path& path);
// Reads the moments back into opt; owl::Error unless there is one pair per tensor of sizes[i] values.
void read_optimizer_state(AdamW& opt, const std::filesystem::path& path, const std::vector<size_t>& sizes);

void write_run_state(const std::filesystem::path& dir, int64_t step, const nlohmann::json& identity);

// The checkpoint to resume: dir, or DIR.owl-old when a kill came between the two renames; owl::Error
// when neither holds one.
std::filesystem::path checkpoint_to_resume(const std::filesystem::path& dir);
// The step of the checkpoint in dir; owl::Error when it was made with another identity.
int64_t read_run_state(const std::filesystem::path& dir, const nlohmann::json& identity);

}  // namespace owl::train
