// Metadata the spec reads: RoPE scaling (linear factor, Llama 3.1 rope_freqs), and hostile values
// rejected at load with the file named.
#include <gtest/gtest.h>

#include "base/error.h"
#include "base/thread_pool.h"
#include "models/decoder.h"
#include "random_llama.h"
#include "test_files.h"

namespace {

std::vector<float> logits_of(const std::filesystem::path& path) {
  const auto model = owl::Model::load(path.string());
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 16);
  const std::vector<int32_t> tokens = {1, 5, 9, 200, 7, 7, 42, 3, 11, 250};
  const auto l = decoder.eval(cache, tokens, true);
  return {l.begin(), l.end()};
}

std::string load_error(const std::filesystem::path& path) {
  try {
    owl::Model::load(path.string());
  } catch (const owl::Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelMetadata, RopeFreqFactorsOfTwoEqualLinearScalingByTwo) {
  const RandomLlamaShape shape;
  const auto plain = scratch_path("rope-plain.gguf");
  const auto linear = scratch_path("rope-linear2.gguf");
  const auto freqs = scratch_path("rope-freqs2.gguf");
  write_random_llama(plain, shape);
  write_random_llama(linear, shape, 1, [](owl::gguf::Writer& w) {
    w.set("llama.rope.scaling.type", {std::string("linear")});
    w.set("llama.rope.scaling.factor", {2.0f});
  });
  write_random_llama(freqs, shape, 1, [&](owl::gguf::Writer& w) {
    const int64_t half = shape.n_embd / shape.n_head / 2;
    std::vector<float> twos(static_cast<size_t>(half), 2.0f);
    std::vector<uint8_t> bytes(twos.size() * sizeof(float));
    std::memcpy(bytes.data(), twos.data(), bytes.size());
    w.add_tensor("rope_freqs.weight", {half}, owl::DType::f32, std::move(bytes));
  });
  const auto a = logits_of(linear);
  EXPECT_EQ(a, logits_of(freqs));  // angle * 0.5 and angle / 2 are the same float
  EXPECT_NE(a, logits_of(plain));  // and scaling does change the result
}

TEST(ModelMetadata, UnsupportedOrHostileValuesAreNamed) {
  const RandomLlamaShape shape;
  const auto path = scratch_path("hostile-meta.gguf");
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) { w.set("llama.rope.scaling.type", {std::string("yarn")}); });
  EXPECT_NE(load_error(path).find("rope.scaling.type"), std::string::npos) << load_error(path);
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) {
    w.set("llama.attention.layer_norm_rms_epsilon", {std::numeric_limits<float>::infinity()});
  });
  EXPECT_NE(load_error(path).find("epsilon"), std::string::npos) << load_error(path);
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) { w.set("llama.attention.head_count", {uint32_t{3}}); });
  EXPECT_NE(load_error(path).find(path.string()), std::string::npos) << load_error(path);
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) { w.set("llama.attention.head_count_kv", {uint32_t{3}}); });
  EXPECT_NE(load_error(path).find("n_head_kv"), std::string::npos) << load_error(path);
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) { w.remove("llama.block_count"); });
  EXPECT_NE(load_error(path).find("llama.block_count"), std::string::npos) << load_error(path);
  write_random_llama(path, shape, 1, [](owl::gguf::Writer& w) { w.set("general.architecture", {std::string("mamba")}); });
  EXPECT_NE(load_error(path).find("mamba"), std::string::npos) << load_error(path);
}

TEST(ModelMetadata, KvCacheRefusesAbsurdSizesAndBadTruncation) {
  const auto path = scratch_path("kv.gguf");
  write_random_llama(path, RandomLlamaShape{});
  const auto model = owl::Model::load(path.string());
  EXPECT_THROW(owl::KvCache(model->spec(), int64_t{1} << 40), owl::Error);
  EXPECT_THROW(owl::KvCache(model->spec(), 0), owl::Error);
  owl::KvCache cache(model->spec(), 8);
  EXPECT_THROW(cache.set_n_past(-1), owl::Error);
  EXPECT_THROW(cache.set_n_past(1), owl::Error);  // cannot "truncate" forward

  owl::ModelSpec other = model->spec();
  other.n_layer += 1;
  owl::KvCache wrong(other, 8);
  owl::ThreadPool pool(1);
  owl::Decoder decoder(*model, pool);
  const std::vector<int32_t> one = {1};
  EXPECT_THROW(decoder.eval(wrong, one, false), owl::Error);
}

}  // namespace
