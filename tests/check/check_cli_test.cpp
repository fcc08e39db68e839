// `owl check` and `owl inspect` end to end: --json validated against data/check-schema.json, the
// documented exit statuses, inspect on every fixture GGUF, and the first-use check of `owl run`.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "check/check_helpers.h"
#include "fixtures.h"
#include "base/error.h"
#include "models/model.h"
#include "models/model_fixtures.h"
#include "tools/check/check.h"
#include "tools/check/tables.h"
#include "tools/inspect.h"

namespace {

using nlohmann::json;

// The subset of JSON Schema the check schema uses: type (one or a list), enum, minimum, required,
// properties and items. Returns the first violation, or "" when v conforms.
std::string violation(const json& schema, const json& v, const std::string& at) {
  if (schema.contains("type")) {
    auto is = [&](const std::string& t) {
      if (t == "object") return v.is_object();
      if (t == "array") return v.is_array();
      if (t == "string") return v.is_string();
      if (t == "integer") return v.is_number_integer();
      if (t == "number") return v.is_number();
      if (t == "boolean") return v.is_boolean();
      if (t == "null") return v.is_null();
      return false;
    };
    const json& t = schema["type"];
    bool ok = false;
    if (t.is_string()) {
      ok = is(t.get<std::string>());
    } else {
      for (size_t i = 0; i < t.size(); ++i) ok = ok || is(t[i].get<std::string>());
    }
    if (!ok) return at + ": expected type " + t.dump() + ", got " + v.dump();
  }
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end()) {
    return at + ": " + v.dump() + " not in " + schema["enum"].dump();
  }
  if (schema.contains("minimum") && v.is_number() && v.get<double>() < schema["minimum"].get<double>()) {
    return at + ": below the minimum";
  }
  if (v.is_object() && schema.contains("required")) {
    for (size_t i = 0; i < schema["required"].size(); ++i) {
      const std::string r = schema["required"][i].get<std::string>();
      if (!v.contains(r)) return at + ": missing '" + r + "'";
    }
  }
  if (v.is_object() && schema.contains("properties")) {
    for (const auto& [k, sub] : schema["properties"].items()) {
      if (v.contains(k)) {
        if (std::string e = violation(sub, v[k], at + "." + k); !e.empty()) return e;
      }
    }
  }
  if (v.is_array() && schema.contains("items")) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::string e = violation(schema["items"], v[i], at + "[" + std::to_string(i) + "]"); !e.empty()) return e;
    }
  }
  return "";
}

// stories260K with extra metadata (e.g. a license) in a folder of its own.
std::string stories_with(const std::filesystem::path& fixtures, const std::string& name,
                         const std::function<void(owl::gguf::Writer&)>& edit) {
  const auto base = owl::gguf::File::open(stories260k_gguf(fixtures, owl::DType::f32).string());
  auto w = owl::gguf::Writer::from(*base);
  edit(w);
  const auto dir = test_scratch_dir() / name;
  std::filesystem::create_directories(dir);
  const auto path = dir / "model.gguf";
  w.write(path.string());
  return path.string();
}

std::vector<std::filesystem::path> fixture_ggufs(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".gguf") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CheckCli, JsonMatchesSchemaOnEveryFixture) {
  OWL_REQUIRE_FIXTURES();
  const json schema = json::parse(owl::check::check_schema_json());
  std::vector<std::filesystem::path> models = fixture_ggufs(fixtures);
  models.push_back(stories260k_gguf(fixtures, owl::DType::f32));
  for (const auto& m : models) {
    const OwlRun r = owl_exec("check " + m.string() + " --json -t 2");
    ASSERT_NE(r.status, 1) << m << ": " << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(violation(schema, j, "$"), "") << m;
    EXPECT_EQ(j["exit_status"].get<int>(), r.status) << m;
  }
}

TEST(CheckCli, ExitStatuses) {
  OWL_REQUIRE_FIXTURES();
  const std::string mit = stories_with(fixtures, "mit", [](auto& w) { w.set("general.license", {std::string("MIT")}); });
  const std::string llama = stories_with(fixtures, "llama2", [](auto& w) { w.set("general.license", {std::string("llama2")}); });
  const std::string nc = stories_with(fixtures, "nc", [](auto& w) { w.set("general.license", {std::string("cc-by-nc-4.0")}); });
  const std::string none = stories_with(fixtures, "none", [](auto&) {});

  const OwlRun ok = owl_exec("check " + mit + " --json");
  EXPECT_EQ(ok.status, 0) << ok.out;
  const json j = json::parse(ok.out);
  EXPECT_EQ(j["license"]["id"], "mit");
  EXPECT_EQ(j["license"]["verdict"], "allowed");
  EXPECT_EQ(j["fit"]["verdict"], "fits");
  EXPECT_EQ(j["openness"], "open-weight");
  EXPECT_NE(std::find(j["ecosystem"]["runtimes"].begin(), j["ecosystem"]["runtimes"].end(), "owl"),
            j["ecosystem"]["runtimes"].end());

  EXPECT_EQ(owl_exec("check " + llama).status, 2);                   // conditions (acceptable-use policy)
  EXPECT_EQ(owl_exec("check " + none).status, 2);                    // unknown license
  EXPECT_EQ(owl_exec("check " + nc + " --use research").status, 0);  // allowed
  EXPECT_EQ(owl_exec("check " + nc + " --use commercial").status, 3);  // not allowed
  EXPECT_EQ(owl_exec("check " + llama + " --use commercial --users 800000000").status, 3);
  // A context whose KV cache exceeds any machine: does not fit, and the largest context is named.
  const OwlRun big = owl_exec("check " + mit + " -c 1000000000 --json");
  EXPECT_EQ(big.status, 3);
  const json b = json::parse(big.out);
  EXPECT_EQ(b["fit"]["verdict"], "does_not_fit");
  // Memory, not the training context (512), bounds it: half of it fits, twice it does not.
  const int64_t max = b["fit"]["max_context"].get<int64_t>();
  EXPECT_GT(max, 512);
  EXPECT_EQ(json::parse(owl_exec("check " + mit + " -c " + std::to_string(max / 2) + " --json").out)["fit"]["verdict"], "fits");
  EXPECT_EQ(json::parse(owl_exec("check " + mit + " -c " + std::to_string(max * 2) + " --json").out)["fit"]["verdict"],
            "does_not_fit");
  EXPECT_EQ(owl_exec("check /nonexistent.gguf").status, 1);
  const OwlRun help = owl_exec("check --help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.out.find("Exit status"), std::string::npos);
}

TEST(CheckCli, LicenseFromModelCardAndBaseModel) {
  OWL_REQUIRE_FIXTURES();
  const std::string p = stories_with(fixtures, "card", [](auto& w) {
    w.set("general.license", {std::string("apache-2.0")});
    w.set("general.base_model.count", {uint32_t{1}});
    w.set("general.base_model.0.name", {std::string("Llama 3.1 8B")});
    w.set("general.base_model.0.organization", {std::string("Meta Llama")});
  });
  const OwlRun r = owl_exec("check " + p + " --json");
  const json j = json::parse(r.out);
  EXPECT_EQ(j["license"]["id"], "apache-2.0");
  EXPECT_EQ(j["license"]["base_models"][0]["license_hint"], "llama3.1");
  EXPECT_EQ(j["license"]["verdict"], "conditions");  // the base model's terms carry over
  EXPECT_EQ(r.status, 2);

  const std::string q = stories_with(fixtures, "readme", [](auto&) {});
  write_file(std::filesystem::path(q).parent_path() / "README.md",
             "---\nlicense: other\nlicense_name: gemma-terms-of-use\ndatasets:\n- roneneldan/TinyStories\n---\n# card\n");
  const json k = json::parse(owl_exec("check " + q + " --json").out);
  EXPECT_EQ(k["license"]["id"], "gemma");
  EXPECT_EQ(k["license"]["declared"].size(), 2u);
  // owl run's first-use notice says where the license came from, as check's warning does.
  ::setenv("OWL_STATE_DIR", (test_scratch_dir() / "state-beside").c_str(), 1);
  const auto model = owl::Model::load(q);
  const std::string line = owl::check::check_before_run(*model, 256, owl::DType::f16, false);
  EXPECT_NE(line.find("README.md beside the model, which may not cover it"), std::string::npos) << line;
  ::unsetenv("OWL_STATE_DIR");
}

TEST(CheckCli, OpenSourceNeedsDataAndCode) {
  OWL_REQUIRE_FIXTURES();
  const std::string p = stories_with(fixtures, "open", [](auto& w) {
    w.set("general.license", {std::string("mit")});
    w.set("general.datasets", owl::gguf::Value::string_array({"roneneldan/TinyStories"}));
    w.set("general.source.repo_url", {std::string("https://github.com/karpathy/llama2.c")});
  });
  const json j = json::parse(owl_exec("check " + p + " --json").out);
  EXPECT_EQ(j["openness"], "open-source") << j["openness_reason"];
  const std::string q = stories_with(fixtures, "weights", [](auto& w) { w.set("general.license", {std::string("mit")}); });
  const json k = json::parse(owl_exec("check " + q + " --json").out);
  EXPECT_EQ(k["openness"], "open-weight");
  EXPECT_NE(k["openness_reason"].get<std::string>().find("training data"), std::string::npos);
}

TEST(CheckCli, KvTypeAndSlidingWindow) {
  OWL_REQUIRE_FIXTURES();
  const std::string p = stories_with(fixtures, "kv", [](auto& w) {
    w.set("llama.attention.sliding_window", {uint32_t{128}});
  });
  const json f16 = json::parse(owl_exec("check " + p + " -c 512 --kv-type f16 --json").out)["fit"];
  // stories260K: 5 layers, 4 KV heads of 8 dims: 2 x 5 x 32 values per position.
  EXPECT_EQ(f16["kv_cache_bytes"].get<uint64_t>(), 512u * 2 * 5 * 32 * 2);
  EXPECT_EQ(f16["kv_cache_sliding_window_bytes"].get<uint64_t>(), 128u * 2 * 5 * 32 * 2);
  EXPECT_EQ(f16["kv_type"], "f16");
  const json f32 = json::parse(owl_exec("check " + p + " -c 512 --kv-type F32 --json").out)["fit"];
  EXPECT_EQ(f32["kv_cache_bytes"].get<uint64_t>(), 512u * 2 * 5 * 32 * 4);
  const json q8 = json::parse(owl_exec("check " + p + " -c 512 --kv-type q8_0 --json").out)["fit"];
  EXPECT_EQ(q8["kv_cache_bytes"].get<uint64_t>(), 512u * 2 * 5 * 34);  // one 34-byte block per 32 values
  const json two = json::parse(owl_exec("check " + p + " -c 512 --parallel 2 --json").out)["fit"];
  EXPECT_EQ(two["kv_type"], "f16");  // the default, as owl run stores it
  EXPECT_EQ(two["kv_cache_bytes"].get<uint64_t>(), 2 * f16["kv_cache_bytes"].get<uint64_t>());
  EXPECT_NE(owl_exec("check " + p + " --kv-type q4_0").status, 0);
}

// NaN and Inf in the weights: owl check names the tensor (exit status 2), and generating stops with
// an error that says why instead of sampling from NaN logits.
TEST(CheckCli, NaNAndInfWeightsAreFlagged) {
  OWL_REQUIRE_FIXTURES();
  const std::string path = stories_with(fixtures, "non-finite", [](auto&) {});
  const auto file = owl::gguf::File::open(path);
  const owl::TensorInfo* norm = nullptr;
  for (const auto& t : file->tensors()) {
    if (t.name == "output_norm.weight") norm = &t;
  }
  ASSERT_NE(norm, nullptr);
  ASSERT_EQ(norm->type, owl::DType::f32);
  const uint64_t at = file->data_offset() + norm->offset;
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const float bad[3] = {std::nanf(""), INFINITY, -INFINITY};
    for (int i = 0; i < 3; ++i) {
      f.seekp(static_cast<std::streamoff>(at + 4 * static_cast<uint64_t>(i * 5)));
      f.write(reinterpret_cast<const char*>(&bad[i]), 4);
    }
  }
  const OwlRun r = owl_exec("check " + path + " --json");
  ASSERT_EQ(r.status, 2) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["non_finite_weights"].size(), 1u) << r.out;
  EXPECT_EQ(j["non_finite_weights"][0]["tensor"], "output_norm.weight");
  EXPECT_EQ(j["non_finite_weights"][0]["values"], 3);
  EXPECT_NE(j["warnings"].dump().find("NaN or Inf"), std::string::npos) << j["warnings"];
  EXPECT_EQ(violation(json::parse(owl::check::check_schema_json()), j, "$"), "");
  const OwlRun run = owl_exec("run " + path + " -p Hello -n 4 --temp 0 --no-prompt");
  EXPECT_EQ(run.status, 1) << run.out;
  EXPECT_NE(run.err.find("NaN logit"), std::string::npos) << run.err;
}

TEST(InspectCli, EveryFixtureGguf) {
  OWL_REQUIRE_FIXTURES();
  for (const auto& m : fixture_ggufs(fixtures)) {
    const auto file = owl::gguf::File::open(m.string());
    owl::InspectOptions o;
    o.stats = file->file_size() < (8u << 20);
    o.threads = 2;
    const json j = owl::inspect_json(*file, o);
    EXPECT_EQ(j["tensors"].size(), file->tensors().size()) << m;
    uint64_t params = 0;
    for (const auto& t : file->tensors()) params += t.n_elements;
    EXPECT_EQ(j["parameters"].get<uint64_t>(), params) << m;
    EXPECT_EQ(j["metadata"].size(), file->metadata().size()) << m;
    if (file->find("tokenizer.ggml.tokens") != nullptr) {
      EXPECT_EQ(j["tokenizer"]["tokens"].get<uint64_t>(), file->get_array("tokenizer.ggml.tokens").items.size()) << m;
    }
    EXPECT_FALSE(owl::inspect_text(j, o).empty());
    const OwlRun r = owl_exec("inspect " + m.string() + " --tensors");
    EXPECT_EQ(r.status, 0) << m << ": " << r.err;
    EXPECT_NE(r.out.find("metadata ("), std::string::npos) << m;
  }
}

TEST(InspectCli, StatsAreRight) {
  owl::gguf::Writer w;
  w.set("general.architecture", {std::string("none")});
  std::vector<float> v = {1.0f, -3.0f, 5.0f, std::nanf(""), INFINITY, 1.0f, 2.0f, 2.0f};
  std::vector<uint8_t> bytes(v.size() * 4);
  std::memcpy(bytes.data(), v.data(), bytes.size());
  w.add_tensor("t", {2, 4}, owl::DType::f32, std::move(bytes));
  const auto path = test_scratch_dir() / "stats.gguf";
  w.write(path.string());
  const OwlRun r = owl_exec("inspect " + path.string() + " --stats --json");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos);  // no progress line into a file
  const json s = json::parse(r.out)["tensors"][0]["stats"];
  EXPECT_EQ(s["nan"], 1);
  EXPECT_EQ(s["inf"], 1);
  EXPECT_DOUBLE_EQ(s["min"].get<double>(), -3.0);
  EXPECT_DOUBLE_EQ(s["max"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(s["mean"].get<double>(), 8.0 / 6.0);
}

TEST(CheckBeforeRun, LicenseLineOnceAndRefusalUnlessForced) {
  OWL_REQUIRE_FIXTURES();
  const auto state = test_scratch_dir() / "state";
  ::setenv("OWL_STATE_DIR", state.c_str(), 1);
  const std::string p = stories_with(fixtures, "run", [](auto& w) { w.set("general.license", {std::string("llama2")}); });
  const auto model = owl::Model::load(p);
  const std::string first = owl::check::check_before_run(*model, 256, owl::DType::f16, false);
  EXPECT_NE(first.find("llama2"), std::string::npos) << first;
  EXPECT_EQ(owl::check::check_before_run(*model, 256, owl::DType::f16, false), "");
  EXPECT_TRUE(std::filesystem::exists(state / "seen"));
  EXPECT_THROW(owl::check::check_before_run(*model, int64_t{1} << 40, owl::DType::f16, false), owl::Error);
  EXPECT_NO_THROW(owl::check::check_before_run(*model, int64_t{1} << 40, owl::DType::f16, true));
  ::unsetenv("OWL_STATE_DIR");
}

}  // namespace
