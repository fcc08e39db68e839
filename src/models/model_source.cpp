// Format detection: GGUF by its magic, Hugging Face and MLX directories by their config.json.
#include "models/model_source.h"

#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/hf_import.h"

namespace owl {

namespace fs = std::filesystem;

namespace {
bool has_gguf_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}
}  // namespace

bool looks_like_model(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return fs::is_regular_file(fs::path(path) / "config.json", ec);
  return fs::is_regular_file(path, ec) && has_gguf_magic(path);
}

std::unique_ptr<ModelFile> open_model_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return open_hf_directory(path);
  return gguf::File::open(path);
}

}  // namespace owl
