// llama-quantize's presets on a 16-layer random Llama with grouped-query attention (8 query heads per
// 2 KV heads): the type of every tensor against the table llama.cpp documents (llama_tensor_get_type:
// attention V and FFN down in "more bits" layers 0, 1, 4, 7, 10, 13, 14, 15 of 16 for Q4_K_M; the first
// layers for Q3_K_M and Q4_K_S; Q6_K on the output head of every quantized preset), --pure, the output and
// embedding overrides, the fallbacks for rows that do not fit 256-value blocks, general.file_type, names
// in any case; --allow-requantize; a directory as output; Ctrl-C leaving nothing behind.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "formats/gguf.h"
#include "models/random_llama.h"
#include "run_owl.h"

namespace {

namespace fs = std::filesystem;
using owl::DType;

const std::set<int> kMoreBits = {0, 1, 4, 7, 10, 13, 14, 15};  // llama.cpp's use_more_bits(i, 16)

fs::path model_16_layers(int64_t width = 256) {
  const fs::path p = scratch_path("quant-mix-" + std::to_string(width) + ".gguf");
  if (!fs::exists(p)) {
    RandomLlamaShape s;
    s.n_embd = width;
    s.n_ff = width;
    s.n_layer = 16;
    s.n_head = 8;
    s.n_head_kv = 2;
    write_random_llama(p, s);
  }
  return p;
}

// Quantizes with `args` and returns the output file (the test fails when owl does).
std::unique_ptr<owl::gguf::File> quantized(const std::string& name, const std::string& args, int64_t width = 256) {
  const fs::path out = scratch_path("quant-mix-" + name + ".gguf");
  const OwlResult r = run_owl("quantize " + model_16_layers(width).string() + " " + out.string() + " " + args + " -t 2");
  EXPECT_EQ(r.status, 0) << r.err;
  return owl::gguf::File::open(out.string());
}

DType type_of(const owl::gguf::File& f, const std::string& name) { return f.tensor(name).type; }
std::string blk(int i, const char* t) { return "blk." + std::to_string(i) + "." + t + ".weight"; }

TEST(QuantMix, Q4_K_M) {
  const auto f = quantized("q4_k_m", "--type q4_k_m");
  EXPECT_EQ(f->get_uint("general.file_type"), 15u);
  EXPECT_EQ(type_of(*f, "output.weight"), DType::q6_k);
  EXPECT_EQ(type_of(*f, "token_embd.weight"), DType::q4_k);
  EXPECT_EQ(type_of(*f, "output_norm.weight"), DType::f32);
  for (int i = 0; i < 16; ++i) {
    const DType strong = kMoreBits.count(i) ? DType::q6_k : DType::q4_k;
    EXPECT_EQ(type_of(*f, blk(i, "attn_v")), strong) << i;
    EXPECT_EQ(type_of(*f, blk(i, "ffn_down")), strong) << i;
    for (const char* t : {"attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"}) EXPECT_EQ(type_of(*f, blk(i, t)), DType::q4_k) << t << i;
  }
}

TEST(QuantMix, Q3_K_M_And_Q4_K_S_FavourTheFirstLayers) {
  const auto m = quantized("q3_k_m", "--type Q3_K_M");
  EXPECT_EQ(m->get_uint("general.file_type"), 12u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(type_of(*m, blk(i, "attn_v")), i < 2 ? DType::q5_k : DType::q4_k) << i;
    EXPECT_EQ(type_of(*m, blk(i, "ffn_down")), i < 1 ? DType::q5_k : DType::q4_k) << i;  // i < 16/16
    EXPECT_EQ(type_of(*m, blk(i, "attn_output")), DType::q4_k) << i;
    EXPECT_EQ(type_of(*m, blk(i, "ffn_up")), DType::q3_k) << i;
  }
  const auto s = quantized("q4_k_s", "--type q4_K_s");
  EXPECT_EQ(s->get_uint("general.file_type"), 14u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(type_of(*s, blk(i, "attn_v")), i < 4 ? DType::q5_k : DType::q4_k) << i;
    EXPECT_EQ(type_of(*s, blk(i, "ffn_down")), i < 2 ? DType::q5_k : DType::q4_k) << i;  // i < 16/8
  }
}

TEST(QuantMix, Q2_KUsesGroupedQueryAttention) {
  const auto f = quantized("q2_k", "--type q2_k");
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(type_of(*f, blk(i, "attn_v")), DType::q4_k) << i;  // 4 query heads per KV head
    EXPECT_EQ(type_of(*f, blk(i, "ffn_down")), DType::q3_k) << i;
    EXPECT_EQ(type_of(*f, blk(i, "attn_output")), DType::q3_k) << i;
    EXPECT_EQ(type_of(*f, blk(i, "attn_q")), DType::q2_k) << i;
  }
}

TEST(QuantMix, LegacyTypesPureAndOverrides) {
  const auto q4 = quantized("q4_0", "--type q4_0");
  EXPECT_EQ(q4->get_uint("general.file_type"), 2u);
  EXPECT_EQ(type_of(*q4, "output.weight"), DType::q6_k);
  EXPECT_EQ(type_of(*q4, blk(3, "attn_v")), DType::q4_0);
  const auto pure = quantized("pure", "--type Q4_K_M --pure");
  EXPECT_EQ(type_of(*pure, "output.weight"), DType::q4_k);
  EXPECT_EQ(type_of(*pure, blk(0, "attn_v")), DType::q4_k);
  const auto over = quantized("over", "--type q4_k_m --output-tensor-type q8_0 --token-embedding-type f16");
  EXPECT_EQ(type_of(*over, "output.weight"), DType::q8_0);
  EXPECT_EQ(type_of(*over, "token_embd.weight"), DType::f16);
  const auto half = quantized("f16", "--type F16");
  EXPECT_EQ(type_of(*half, "output.weight"), DType::f16);
  EXPECT_EQ(type_of(*half, blk(0, "attn_v")), DType::f16);
}

// Rows of 96 values fit no 256-value k-quant block: Q4_K falls back to Q5_0 and Q6_K to Q8_0.
TEST(QuantMix, RowsThatDoNotFitFallBackAsLlamaCppDoes) {
  const auto f = quantized("narrow", "--type q4_k_m", 96);
  EXPECT_EQ(type_of(*f, blk(2, "attn_q")), DType::q5_0);
  EXPECT_EQ(type_of(*f, blk(0, "attn_v")), DType::q8_0);
  EXPECT_EQ(type_of(*f, "output.weight"), DType::q8_0);
}

TEST(QuantMix, RequantizingNeedsConsentAndBadOutputsFailFirst) {
  const auto q8 = scratch_path("quant-mix-src-q8.gguf").string();
  ASSERT_EQ(run_owl("quantize " + model_16_layers().string() + " " + q8 + " --type q8_0 --pure").status, 0);
  const std::string out = scratch_path("quant-mix-requant.gguf").string();
  OwlResult r = run_owl("quantize " + q8 + " " + out + " --type q4_k_m");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("--allow-requantize"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = run_owl("quantize " + q8 + " " + out + " --type q4_k_m --allow-requantize");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(owl::gguf::File::open(out)->tensor("blk.0.attn_v.weight").type, DType::q6_k);
  // Not a terminal: one plain line per tensor, no carriage returns.
  EXPECT_EQ(r.err.find('\r'), std::string::npos);
  EXPECT_NE(r.err.find("[1/"), std::string::npos) << r.err;

  const fs::path dir = scratch_path("quant-mix-dir");
  fs::create_directories(dir);
  r = run_owl("quantize " + model_16_layers().string() + " " + dir.string() + " --type q4_k_m");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  r = run_owl("quantize " + model_16_layers().string() + " " + out + " --type q4_k_x");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos) << r.err;  // the message lists the presets
}

// SIGINT while the output is being written: the process ends and neither the output nor its temporary
// file is left.
TEST(QuantMix, InterruptLeavesNothingBehind) {
  RandomLlamaShape s;
  s.n_embd = 512;  // 75 MB of float32: long enough to be caught while writing
  s.n_ff = 1024;
  s.n_layer = 8;
  const fs::path big = scratch_path("quant-mix-big.gguf");
  write_random_llama(big, s);
  const fs::path out = scratch_path("quant-mix-interrupted.gguf");
  const fs::path tmp = out.string() + ".tmp";
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(OWL_BINARY, OWL_BINARY, "quantize", big.c_str(), out.c_str(), "--type", "q4_k_m", "-t", "1", nullptr);
    ::_exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(tmp) && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(tmp)) << "the quantization never started writing";
  ::kill(pid, SIGINT);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGINT) << status;
  EXPECT_FALSE(fs::exists(tmp));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
