// Shared checkpoint parts (train/checkpoint.h).
#include "train/checkpoint.h"

#include <cstring>
#include <fstream>

#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/safetensors.h"

namespace owl::train {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

void write_optimizer_state(AdamW& opt, const fs::path& path) {
  safetensors::Writer w;
  for (size_t i = 0; i < opt.first_moments().size(); ++i) {
    const auto n = static_cast<int64_t>(opt.first_moments()[i].size());
    w.add("m." + std::to_string(i), safetensors::DType::f32, {n}, float_bytes(opt.first_moments()[i]));
    w.add("v." + std::to_string(i), safetensors::DType::f32, {n}, float_bytes(opt.second_moments()[i]));
  }
  w.write(path.string());
}

void read_optimizer_state(AdamW& opt, const fs::path& path, const std::vector<size_t>& sizes) {
  const auto moments = safetensors::File::open(path.string());
  opt.first_moments().resize(sizes.size());
  opt.second_moments().resize(sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) {
    for (int mv = 0; mv < 2; ++mv) {
      const safetensors::Tensor* t = moments->find((mv == 0 ? "m." : "v.") + std::to_string(i));
      if (t == nullptr || t->dtype != safetensors::DType::f32 || t->n_elements != sizes[i]) {
        fail("{}: optimizer state does not match the trained tensors", path.string());
      }
      std::vector<float>& dst = (mv == 0 ? opt.first_moments() : opt.second_moments())[i];
      dst.resize(sizes[i]);
      std::memcpy(dst.data(), t->data, t->n_bytes);
    }
  }
}

void write_run_state(const fs::path& dir, int64_t step, const json& identity) {
  atomic_write(dir / "state.json", json{{"step", step}, {"run", identity}}.dump(2) + "\n");
}

fs::path checkpoint_to_resume(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "state.json", ec)) return dir;
  fs::path old = dir.string() + ".owl-old";
  if (fs::exists(old / "state.json", ec)) return old;
  fail("--resume: no checkpoint in {}", dir.string());
}

int64_t read_run_state(const fs::path& dir, const json& identity) {
  std::ifstream in(dir / "state.json");
  json state;
  try {
    state = json::parse(in);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", (dir / "state.json").string(), e.what());
  }
  if (!state.is_object() || state.value("run", json()) != identity) {
    fail("--resume: {} was made with other options ({}); resume with the same ones", dir.string(),
         state.is_object() ? state.value("run", json()).dump() : state.dump());
  }
  const json& step = state["step"];
  if (!step.is_number_integer() || step.get<int64_t>() < 0) fail("{}: no step count", (dir / "state.json").string());
  return step.get<int64_t>();
}

}  // namespace owl::train
