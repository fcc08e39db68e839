// The model-file view's lookups (shared by every format) and the in-memory assembled view.
#include "formats/model_file.h"

#include <fmt/format.h>

#include "base/error.h"
#include "tensor/dtype.h"

namespace owl {

int64_t TensorInfo::rows() const {
  int64_t r = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) r *= shape[i];
  return r;
}

std::string ModelFile::format_description() const {
  return format() == "mlx" ? "MLX directory" : format() == "hf" ? "Hugging Face directory" : std::string(format());
}

namespace {
std::string metadata_what(const ModelFile& f, std::string_view key) {
  return fmt::format("{}: metadata '{}'", f.path(), key);
}
}  // namespace

const gguf::Value* ModelFile::find(std::string_view key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const gguf::Value& ModelFile::get(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) fail("{}: missing", metadata_what(*this, key));
  return *v;
}

std::string ModelFile::get_string(std::string_view key) const { return get(key).to_string(metadata_what(*this, key)); }
uint64_t ModelFile::get_uint(std::string_view key) const { return get(key).to_uint(metadata_what(*this, key)); }
int64_t ModelFile::get_int(std::string_view key) const { return get(key).to_int(metadata_what(*this, key)); }
double ModelFile::get_float(std::string_view key) const { return get(key).to_double(metadata_what(*this, key)); }
bool ModelFile::get_bool(std::string_view key) const { return get(key).to_bool(metadata_what(*this, key)); }
const gguf::Array& ModelFile::get_array(std::string_view key) const {
  return get(key).to_array(metadata_what(*this, key));
}

std::optional<std::string> ModelFile::find_string(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  return v->to_string(metadata_what(*this, key));
}

std::optional<uint64_t> ModelFile::find_uint(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  return v->to_uint(metadata_what(*this, key));
}

std::optional<double> ModelFile::find_float(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  return v->to_double(metadata_what(*this, key));
}

std::optional<bool> ModelFile::find_bool(std::string_view key) const {
  const gguf::Value* v = find(key);
  if (v == nullptr) return std::nullopt;
  return v->to_bool(metadata_what(*this, key));
}

const TensorInfo* ModelFile::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& ModelFile::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (t == nullptr) fail("{}: tensor '{}': not found", path(), name);
  return *t;
}

bool ModelFile::add_metadata(std::string key, gguf::Value value) {
  if (metadata_index_.contains(key)) return false;
  metadata_index_.emplace(key, metadata_.size());
  metadata_.emplace_back(std::move(key), std::move(value));
  return true;
}

bool ModelFile::replace_metadata(std::string_view key, gguf::Value value) {
  const auto it = metadata_index_.find(key);
  if (it == metadata_index_.end()) return false;
  metadata_[it->second].second = std::move(value);
  return true;
}

bool ModelFile::add_tensor(TensorInfo t) {
  if (tensor_index_.contains(t.name)) return false;
  tensor_index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
  return true;
}

void AssembledModelFile::set(std::string key, gguf::Value value) {
  if (!replace_metadata(key, value)) add_metadata(std::move(key), std::move(value));
}

void AssembledModelFile::add(TensorInfo t) {
  uint64_t n = 1;
  for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
  t.n_elements = n;
  const int64_t block = dtype_traits(t.type).block_size;
  if (static_cast<int64_t>(n) % block != 0) {
    fail("{}: tensor '{}': {} elements are not a whole number of {} blocks", path(), t.name, n, dtype_name(t.type));
  }
  const uint64_t expected = row_bytes(t.type, static_cast<int64_t>(n));
  if (t.n_bytes != expected) {
    fail("{}: tensor '{}': {} bytes for {} elements of {} (expected {})", path(), t.name, t.n_bytes, n,
         dtype_name(t.type), expected);
  }
  const std::string name = t.name;
  if (!add_tensor(std::move(t))) fail("{}: tensor '{}' appears twice", path(), name);
}

const uint8_t* AssembledModelFile::own(std::vector<uint8_t> bytes) {
  auto buffer = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  const uint8_t* p = buffer->data();
  owners_.push_back(std::move(buffer));
  return p;
}

}  // namespace owl
