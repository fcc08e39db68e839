// `owl bench`: writes a synthetic model of real shape, then measures it and reports every field of
// the JSON that bench/RESULTS.md relies on. Speeds are only checked to be measured (positive), never
// against a threshold: tests assert no timing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "run_owl.h"
#include "test_files.h"

namespace {

TEST(BenchCli, SyntheticModelIsMeasuredWithJson) {
  const auto model = scratch_path("bench-100m-q4_0.gguf");
  const OwlResult made = run_owl("bench --synthetic 100m --type q4_0 -o " + model.string());
  ASSERT_EQ(made.status, 0) << made.err;
  ASSERT_TRUE(std::filesystem::exists(model));
  const auto file_bytes = static_cast<double>(std::filesystem::file_size(model));

  const OwlResult r = run_owl("bench -m " + model.string() + " -p 8 -n 4 -r 2 -t 2 --json");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["n_prompt"], 8);
  EXPECT_EQ(j["n_gen"], 4);
  EXPECT_EQ(j["threads"], 2);
  for (const char* test : {"pp_tokens_per_second", "tg_tokens_per_second"}) {
    ASSERT_EQ(j[test]["runs"].size(), 2u) << test;
    EXPECT_GT(j[test]["mean"].get<double>(), 0.0) << test;
    EXPECT_GE(j[test]["std"].get<double>(), 0.0) << test;
  }
  EXPECT_GT(j["model_bytes"].get<double>(), 0.9 * file_bytes);
  EXPECT_LE(j["model_bytes"].get<double>(), file_bytes);
  EXPECT_LT(j["bytes_per_token"].get<double>(), j["model_bytes"].get<double>());  // one embedding row only
  EXPECT_GT(j["read_bandwidth_gb_per_s"].get<double>(), 0.0);
  EXPECT_EQ(j["bandwidth_probe_passes"], 7);  // 1 after the second prompt run, then topped up to 7
  // The faster of the SIMD kernel sets' read loops bounds the decode (the scalar loop where there is none).
  const std::string loop = j["bandwidth_probe_loop"];
  EXPECT_TRUE(loop == "avx2" || loop == "avx512" || loop == "ref") << loop;
  EXPECT_GT(j["decode_bound_tokens_per_second"].get<double>(), 0.0);
  EXPECT_GT(j["tg_percent_of_bound"].get<double>(), 0.0);
  EXPECT_GE(j["load_seconds"].get<double>(), 0.0);
  EXPECT_TRUE(j["packed"].is_boolean());
  // A q4_0 model: its 7 matrices per layer (12 layers) and the output head are packed when packing is on.
  EXPECT_EQ(j["packed_matrices"], j["packed"].get<bool>() ? 12 * 7 + 1 : 0);
  // The weights are resident (mapped or packed), and the probe's 512 MiB buffer is not counted.
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), 0.8 * file_bytes);
  EXPECT_LT(j["peak_rss_bytes"].get<double>(), file_bytes + 400.0 * (1 << 20));
  EXPECT_EQ(j["kv_type"], "f16");
  EXPECT_EQ(j["depth"], 0);

  // At depth, each decode step also reads the cache: 100m has 12 layers of 768 keys and values per
  // position, 2 bytes each in f16, 34/32 of a byte in q8_0; the steps see 64 + 4/2 positions on average.
  for (const auto& [type, bytes] : {std::pair{"f16", 2.0}, std::pair{"q8_0", 34.0 / 32.0}}) {
    const OwlResult d = run_owl("bench -m " + model.string() + " -p 0 -n 4 -d 64 -r 1 -t 2 --json --kv-type " + type);
    ASSERT_EQ(d.status, 0) << d.err;
    const auto k = nlohmann::json::parse(d.out);
    EXPECT_EQ(k["depth"], 64);
    EXPECT_EQ(k["kv_type"], type);
    EXPECT_NEAR(k["kv_bytes_per_token"].get<double>(), 66.0 * 12 * 2 * 768 * bytes, 1.0) << type;
    EXPECT_GT(k["tg_tokens_per_second"]["mean"].get<double>(), 0.0);
  }
}

TEST(BenchCli, BadCountsAreOneLineErrors) {
  const OwlResult r = run_owl("bench -m /nonexistent.gguf -p -1");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// --type takes owl quantize's presets in any case and mixes the types as it does: Q4_K_M puts Q6_K on
// the output head and on attention V / FFN down of the "more bits" layers, Q5_K_S only on the head.
TEST(BenchCli, SyntheticModelsFollowTheQuantizePresets) {
  for (const auto& [type, want_q6k] : std::vector<std::pair<std::string, int>>{{"q4_k_m", 13}, {"Q5_K_S", 1}}) {
    const auto model = scratch_path("synthetic-" + type + ".gguf");
    const OwlResult made = run_owl("bench --synthetic 100m --type " + type + " -o " + model.string());
    ASSERT_EQ(made.status, 0) << made.err;
    const OwlResult info = run_owl("info " + model.string());
    ASSERT_EQ(info.status, 0) << info.err;
    EXPECT_NE(info.out.find(fmt::format("{:<6} {:>5} tensors", "q6_K", want_q6k)), std::string::npos) << type << "\n"
                                                                                                      << info.out;
  }
  const OwlResult bad = run_owl("bench --synthetic 100m --type q9_z -o " + scratch_path("bad.gguf").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("unknown weight type (presets: Q4_0"), std::string::npos) << bad.err;
}

}  // namespace
