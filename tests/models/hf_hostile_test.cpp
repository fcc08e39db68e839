// Hostile Hugging Face and MLX directories: each broken config.json, index or shard gives one
// owl::Error naming the directory (and the file or key), never a crash.
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "fixtures.h"
#include "models/model.h"
#include "test_files.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A fresh copy of a fixture directory, changed by edit; Model::load on it must throw naming it.
void expect_refused(const fs::path& source, const std::string& tag, const std::function<void(const fs::path&)>& edit,
                    const std::string& expected) {
  const fs::path dir = scratch_path("hostile-" + tag);
  fs::remove_all(dir);
  fs::copy(source, dir, fs::copy_options::recursive);
  edit(dir);
  try {
    owl::Model::load(dir.string());
    ADD_FAILURE() << tag << ": loaded";
  } catch (const owl::Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir.string()), std::string::npos) << tag << ": " << what;
    EXPECT_NE(what.find(expected), std::string::npos) << tag << ": " << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << tag << ": " << what;
  }
}

void edit_config(const fs::path& dir, const std::function<void(json&)>& f) {
  json c = json::parse(read_file(dir / "config.json"));
  f(c);
  write_file(dir / "config.json", c.dump());
}

TEST(HfHostile, ConfigJson) {
  OWL_REQUIRE_FIXTURE(src, "hf-archs/llama");
  expect_refused(src, "no-config", [](const fs::path& d) { fs::remove(d / "config.json"); }, "config.json");
  expect_refused(src, "not-json", [](const fs::path& d) { write_file(d / "config.json", "{\"hidden_size\": 6"); }, "not valid JSON");
  expect_refused(src, "array", [](const fs::path& d) { write_file(d / "config.json", "[1, 2]"); }, "expected a JSON object");
  expect_refused(src, "no-arch", [](const fs::path& d) { edit_config(d, [](json& c) { c.erase("architectures"); }); }, "architectures");
  expect_refused(src, "unknown-arch",
                 [](const fs::path& d) { edit_config(d, [](json& c) { c["architectures"] = {"MambaForCausalLM"}; }); },
                 "MambaForCausalLM");
  expect_refused(src, "negative", [](const fs::path& d) { edit_config(d, [](json& c) { c["hidden_size"] = -64; }); }, "hidden_size");
  expect_refused(src, "string", [](const fs::path& d) { edit_config(d, [](json& c) { c["num_hidden_layers"] = "two"; }); },
                 "num_hidden_layers");
  expect_refused(src, "huge", [](const fs::path& d) { edit_config(d, [](json& c) { c["intermediate_size"] = 1e30; }); },
                 "intermediate_size");
  expect_refused(src, "zero-heads", [](const fs::path& d) { edit_config(d, [](json& c) { c["num_attention_heads"] = 0; }); },
                 "num_attention_heads");
  expect_refused(src, "missing-layers", [](const fs::path& d) { edit_config(d, [](json& c) { c.erase("num_hidden_layers"); }); },
                 "num_hidden_layers");
  expect_refused(src, "shape-mismatch", [](const fs::path& d) { edit_config(d, [](json& c) { c["hidden_size"] = 32; }); },
                 "shape");
  expect_refused(src, "bad-rope",
                 [](const fs::path& d) { edit_config(d, [](json& c) { c["rope_scaling"] = {{"rope_type", "yarn"}}; }); }, "yarn");
}

TEST(HfHostile, WeightsAndIndex) {
  OWL_REQUIRE_FIXTURE(sharded, "hf-archs/llama-sharded");
  const fs::path single = fixtures / "hf-archs" / "llama";
  expect_refused(single, "no-weights", [](const fs::path& d) { fs::remove(d / "model.safetensors"); }, "model.safetensors");
  expect_refused(single, "truncated", [](const fs::path& d) {
    const std::string bytes = read_file(d / "model.safetensors");
    write_file(d / "model.safetensors", bytes.substr(0, bytes.size() / 2));
  }, "model.safetensors");
  expect_refused(sharded, "missing-shard", [](const fs::path& d) { fs::remove(d / "model-00002-of-00002.safetensors"); },
                 "model-00002-of-00002.safetensors");
  expect_refused(sharded, "escaping-shard", [](const fs::path& d) {
    json index = json::parse(read_file(d / "model.safetensors.index.json"));
    index["weight_map"]["model.norm.weight"] = "../model.safetensors";
    write_file(d / "model.safetensors.index.json", index.dump());
  }, "weight_map");
  expect_refused(sharded, "tensor-not-in-shard", [](const fs::path& d) {
    json index = json::parse(read_file(d / "model.safetensors.index.json"));
    index["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors";
    write_file(d / "model.safetensors.index.json", index.dump());
  }, "model.extra.weight");
  expect_refused(sharded, "index-not-json", [](const fs::path& d) { write_file(d / "model.safetensors.index.json", "{"); },
                 "model.safetensors.index.json");
}

TEST(HfHostile, MlxQuantization) {
  OWL_REQUIRE_FIXTURE(src, "mlx-archs/llama-q4g64");
  expect_refused(src, "bits-7", [](const fs::path& d) { edit_config(d, [](json& c) { c["quantization"]["bits"] = 7; }); }, "bits");
  expect_refused(src, "mode", [](const fs::path& d) { edit_config(d, [](json& c) { c["quantization"]["mode"] = "mxfp4"; }); },
                 "mxfp4");
  expect_refused(src, "group", [](const fs::path& d) { edit_config(d, [](json& c) { c["quantization"]["group_size"] = 32; }); },
                 "packed words");
  expect_refused(src, "not-object", [](const fs::path& d) { edit_config(d, [](json& c) { c["quantization"] = 4; }); },
                 "quantization");
}

}  // namespace
