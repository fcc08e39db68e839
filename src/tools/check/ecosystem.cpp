// Ecosystem table lookups. owl's row is computed from models/registry.h (the architectures it runs)
// and tensor/dtype.h (the types it reads), so it cannot drift from `owl run`.
#include "tools/check/ecosystem.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "formats/gguf.h"
#include "models/registry.h"
#include "tools/check/tables.h"

namespace owl::check {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct Runtime {
  std::string id, name, note;
  std::vector<std::string> formats, archs, types;  // lower case
};

std::vector<std::string> lower_list(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& v : j.at(key)) out.push_back(lower(v.get<std::string>()));
  }
  return out;
}

const nlohmann::json& table() {
  static const nlohmann::json t = [] {
    try {
      return nlohmann::json::parse(ecosystem_json());
    } catch (const nlohmann::json::exception& e) {
      fail("data/ecosystem.json: {}", e.what());
    }
  }();
  return t;
}

std::vector<Runtime> runtimes() {
  std::vector<Runtime> out;
  Runtime owl{"owl", "owl", "", {"gguf", "hf", "mlx"}, {}, {}};
  for (std::string_view a : supported_architectures()) owl.archs.push_back(lower(a));
  for (DType t : {DType::f32, DType::f16, DType::bf16, DType::q4_0, DType::q4_1, DType::q5_0, DType::q5_1, DType::q8_0,
                  DType::q2_k, DType::q3_k, DType::q4_k, DType::q5_k, DType::q6_k, DType::q8_k}) {
    owl.types.push_back(lower(dtype_name(t)));
  }
  out.push_back(owl);
  try {
    const nlohmann::json& t = table();
    for (const auto& j : t.at("runtimes")) {
      Runtime r{j.at("id").get<std::string>(), j.at("name").get<std::string>(), j.value("note", std::string()),
                lower_list(j, "formats"), lower_list(j, "architectures"), lower_list(j, "types")};
      if (j.contains("same_as")) {
        const std::string base = j.at("same_as").get<std::string>();
        auto it = std::find_if(out.begin(), out.end(), [&](const Runtime& x) { return x.id == base; });
        if (it == out.end()) fail("data/ecosystem.json: '{}' is the same as unknown runtime '{}'", r.id, base);
        r.archs = it->archs;
        r.types = it->types;
      }
      out.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("data/ecosystem.json: {}", e.what());
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::string format_name(const std::string& format) {
  return format == "hf" ? "Hugging Face directory" : format == "mlx" ? "MLX directory" : "GGUF";
}

// Whether runtime r loads a model of this format, architecture and (GGUF) weight types; the reason
// either way. A directory's types are its format's own, so only format and architecture decide.
RuntimeFit judge(const Runtime& r, const std::string& format, const std::string& arch,
                 const std::set<std::string>& types) {
  RuntimeFit f{r.id, r.name, false, ""};
  if (!has(r.formats, format)) {
    f.reason = fmt::format("does not read {} (reads {})", format == "mlx" ? "an MLX directory"
                                                          : format == "hf" ? "a Hugging Face directory" : "GGUF",
                           fmt::join(r.formats, ", "));
    return f;
  }
  if (format != "gguf" && r.id != "owl") {  // the runtimes of the HF ecosystem load every family owl runs
    f.loads = true;
    f.reason = fmt::format("{}, '{}' architecture", format_name(format), arch);
    return f;
  }
  if (!has(r.archs, arch)) {
    f.reason = fmt::format("does not support the '{}' architecture", arch);
    return f;
  }
  if (format != "gguf") {
    f.loads = true;
    f.reason = fmt::format("{}, '{}' architecture", format_name(format), arch);
    if (!r.note.empty()) f.reason += " (" + r.note + ")";
    return f;
  }
  std::vector<std::string> missing;
  for (const std::string& t : types) {
    if (!has(r.types, t)) missing.push_back(t);
  }
  if (!missing.empty()) {
    f.reason = fmt::format("does not read weight type {}", fmt::join(missing, ", "));
    return f;
  }
  f.loads = true;
  f.reason = fmt::format("GGUF, '{}' architecture, types {}", arch, fmt::join(types, ", "));
  if (!r.note.empty()) f.reason += " (" + r.note + ")";
  return f;
}

}  // namespace

std::vector<std::string> EcosystemReport::loading() const {
  std::vector<std::string> out;
  for (const RuntimeFit& r : runtimes) {
    if (r.loads) out.push_back(r.id);
  }
  return out;
}

EcosystemReport ecosystem_report(const ModelFile& file) {
  EcosystemReport rep;
  const std::string arch = lower(file.find_string("general.architecture").value_or(""));
  std::set<std::string> types;
  for (const auto& t : file.tensors()) types.insert(lower(dtype_name(t.type)));
  const std::vector<Runtime> all = runtimes();
  const bool has_tensors = !file.tensors().empty();
  const std::string format(file.format());
  for (const Runtime& r : all) {
    RuntimeFit f = judge(r, format, arch, types);
    if (!has_tensors) {
      f.loads = false;
      f.reason = "a vocabulary-only file (no weights): tokenizers can read it, no runtime can run it";
    }
    rep.runtimes.push_back(std::move(f));
  }
  // Conversions: a common weight type opens the runtimes that know the architecture but not the types.
  const nlohmann::json& t = table();
  for (const auto& j : t.at("owl_convert")) {
    ConvertHint h{j.at("target").get<std::string>(), j.at("command").get<std::string>(), j.at("available").get<bool>(), {}};
    if (has_tensors) {
      for (const Runtime& r : all) {
        if (judge(r, format, arch, types).loads) continue;
        const std::set<std::string> common = {"q8_0", "f32"};  // owl convert keeps 1-D tensors f32
        if (judge(r, h.target, arch, h.target == "gguf" ? common : types).loads) h.opens.push_back(r.id);
      }
    }
    rep.convert.push_back(std::move(h));
  }
  return rep;
}

}  // namespace owl::check
