// The model store ($OWL_HOME, default ~/.local/share/owl), laid out as Ollama lays out its own:
// content-addressed blobs (blobs/sha256-<hex>) and one manifest per name
// (manifests/<host>/<namespace>/<name>/<tag>, the registry's JSON), so names sharing a file store it
// once. A Hugging Face repository pulled as safetensors also gets snapshots/<host>/<ns>/<name>/<tag>/,
// its files by their repository paths as links to the blobs: the directory owl loads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace owl::store {

// A model's name. Hugging Face: "hf.co/OWNER/REPO[:QUANT]" or "OWNER/REPO[:FILE]". Ollama's registry:
// "NAME[:TAG]" (namespace library) or "REGISTRY/NS/NAME[:TAG]". The tag defaults to "latest".
struct ModelName {
  bool hugging_face = false;
  std::string host;  // "registry.ollama.ai", "hf.co" or the registry given
  std::string ns, name, tag;
  std::string str() const;  // the canonical spelling, as owl list shows it
};

// owl::Error for what is no model name (empty parts, "..", characters outside [A-Za-z0-9._-]).
ModelName parse_model_name(std::string_view text);
// Whether text is spelled like a model name at all (no path separator run, no file extension of a
// model file): what lets -m take a path or a name.
bool looks_like_model_name(std::string_view text);

// The GGUF files of a repository a tag picks, as Ollama reads hf.co/OWNER/REPO:QUANT: those whose file
// name contains the tag in any case ("latest": Q4_K_M, or the only GGUF there is). Indices into paths.
std::vector<size_t> gguf_files_for_tag(const std::vector<std::string>& paths, const std::string& tag);

// A Hugging Face file's repository path that stays inside its directory: relative, no "." or ".."
// parts, no backslashes.
bool is_valid_repo_path(std::string_view path);

struct Layer {
  std::string media_type;
  std::string digest;  // "sha256:<hex>", checked
  uint64_t size = 0;
  std::string path;    // a Hugging Face file's path in its repository; empty for registry layers
};

inline constexpr std::string_view kOllamaModelLayer = "application/vnd.ollama.image.model";
inline constexpr std::string_view kHfFileLayer = "application/vnd.owl.hf.file";

struct Manifest {
  std::vector<Layer> layers;
  std::string config_digest;  // the registry's config blob, if any
  uint64_t config_size = 0;
  std::string json;           // the manifest as stored
};

// Parses a registry manifest (Docker/OCI image manifest v2): owl::Error naming `what` for malformed
// JSON, a digest that is not sha256:<64 hex>, or a layer path that could leave its directory.
Manifest parse_manifest(const std::string& json, const std::string& what);
// owl's manifest of a Hugging Face pull (the same schema, one layer per file).
std::string hf_manifest_json(const std::vector<Layer>& files, const std::string& source, const std::string& revision);

struct ListEntry {
  ModelName name;
  std::string id;  // the first 12 hex digits of the manifest's SHA-256, as ollama list shows
  uint64_t size = 0;
  std::filesystem::file_time_type modified;
};

class ModelStore {
 public:
  explicit ModelStore(std::filesystem::path root);
  // $OWL_HOME, else $XDG_DATA_HOME/owl, else ~/.local/share/owl.
  static ModelStore open_default();

  const std::filesystem::path& root() const { return root_; }
  // Where a blob lives (owl::Error for an invalid digest) and where its download grows.
  std::filesystem::path blob_path(std::string_view digest) const;
  std::filesystem::path partial_path(std::string_view digest) const;
  bool has_blob(const Layer& layer) const;

  std::optional<Manifest> manifest(const ModelName& name) const;
  // Writes the manifest (atomically) once every blob it names is present; makes the snapshot
  // directory of a Hugging Face safetensors repository.
  void put_manifest(const ModelName& name, const std::string& json);

  std::vector<ListEntry> list() const;
  // Removes the name, then every blob no other manifest names (owl::Error for an unknown name).
  void remove(const ModelName& name);
  void copy(const ModelName& from, const ModelName& to);

  // What owl loads for a stored name: the GGUF blob, or the snapshot directory; nullopt when the
  // name is not in the store.
  std::optional<std::filesystem::path> model_path(const ModelName& name) const;
  // The same for a manifest already read (owl::Error when it names no model).
  std::filesystem::path model_path(const ModelName& name, const Manifest& m) const;

 private:
  std::filesystem::path manifest_path(const ModelName& name) const;
  std::filesystem::path snapshot_path(const ModelName& name) const;
  void make_snapshot(const ModelName& name, const Manifest& m) const;
  std::filesystem::path root_;
};

}  // namespace owl::store
