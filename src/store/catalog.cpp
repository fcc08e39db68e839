// The models owl runs by name (store/catalog.h).
#include "store/catalog.h"

#include <fstream>

#include "base/error.h"
#include "store/digest.h"
#include "store/foreign_stores.h"

namespace owl::store {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxTextLayer = uint64_t{1} << 20;

std::string manifest_digest(const Manifest& m) {
  Hasher h;
  h.update(m.json.data(), m.json.size());
  return h.final_hex();
}

// A name in a store of Ollama's layout (owl's own or Ollama's), or nullopt.
std::optional<StoredModel> in_store(const ModelStore& s, const ModelName& name, const std::string& source) {
  try {
    std::optional<Manifest> m = s.manifest(name);
    if (!m) return std::nullopt;
    const fs::path path = s.model_path(name, *m);
    StoredModel out{name, source, path, m->config_size, {}, manifest_digest(*m), m, s.root()};
    for (const Layer& l : m->layers) out.size += l.size;
    std::error_code ec;
    out.modified = fs::last_write_time(s.root() / "manifests" / name.host / name.ns / name.name / name.tag, ec);
    return out;
  } catch (const Error&) {
    return std::nullopt;  // a damaged manifest, or one without a model layer (an adapter, a projector)
  }
}

std::string read_text(const fs::path& p, uint64_t size) {
  if (size > kMaxTextLayer) return fmt::format("({} bytes, not shown)", size);
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

namespace {

StoredModel from_cache(ForeignModel f) {
  return {std::move(f.name), std::move(f.source), std::move(f.path), f.size, f.modified, "", std::nullopt, {}};
}

}  // namespace

std::vector<StoredModel> stored_models(const ModelStore& own) {
  std::vector<StoredModel> out;
  std::vector<std::pair<ModelStore, std::string>> stores = {{own, "owl"}};
  if (const auto dir = ollama_models_dir()) stores.emplace_back(ModelStore(*dir), "ollama");
  for (const auto& [s, source] : stores) {
    for (const ListEntry& e : s.list()) {
      if (auto m = in_store(s, e.name, source)) out.push_back(std::move(*m));
    }
  }
  for (ForeignModel& f : hf_cache_models()) out.push_back(from_cache(std::move(f)));
  return out;
}

std::optional<StoredModel> find_stored_model(const ModelStore& own, const ModelName& name) {
  if (auto m = in_store(own, name, "owl")) return m;
  if (const auto dir = ollama_models_dir(); dir && !name.hugging_face) return in_store(ModelStore(*dir), name, "ollama");
  auto f = find_hf_cache_model(name);
  return f ? std::optional(from_cache(std::move(*f))) : std::nullopt;
}

StoredExtras stored_extras(const StoredModel& m) {
  StoredExtras x;
  if (m.manifest) {
    const ModelStore s(m.store_root);
    for (const Layer& l : m.manifest->layers) {
      const std::string kind = l.media_type.starts_with("application/vnd.ollama.image.") ? l.media_type.substr(29) : "";
      if (kind == "template") x.template_text = read_text(s.blob_path(l.digest), l.size);
      else if (kind == "system") x.system = read_text(s.blob_path(l.digest), l.size);
      else if (kind == "params") x.params = read_text(s.blob_path(l.digest), l.size);
      else if (kind == "adapter") x.adapters.push_back(s.blob_path(l.digest));
      else if (kind == "license" || l.path.starts_with("LICENSE")) x.license += read_text(s.blob_path(l.digest), l.size);
    }
  }
  return x;
}

}  // namespace owl::store
