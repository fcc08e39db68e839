// Shared by the check and inspect tests: running the owl binary (output, exit status, and the peak
// resident memory of the child), and large random-weight Llama files written lazily, one tensor at a time.
#pragma once

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/fp16.h"
#include "formats/gguf.h"
#include "test_files.h"

struct OwlRun {
  int status = -1;
  std::string out;
  std::string err;
  uint64_t peak_rss = 0;  // VmHWM of the child's own address space, bytes
  uint64_t ru_maxrss = 0; // wait4() ru_maxrss, bytes (includes the pre-exec copy of this test process)
};

// Runs OWL_BINARY with args (split on spaces; test paths have none). The peak RSS is the child's
// VmHWM, read from /proc/PID/status until it exits: wait4()'s ru_maxrss would also count the image
// of this test process that the child had between fork() and exec() (Linux keeps that high-water mark).
inline OwlRun owl_exec(const std::string& args, const std::vector<std::string>& env = {}) {
  static int counter = 0;
  const auto out_path = test_scratch_dir() / fmt::format("exec-{}.out", counter);
  const auto err_path = test_scratch_dir() / fmt::format("exec-{}.err", counter++);
  std::vector<std::string> argv_s{OWL_BINARY};
  std::istringstream ss(args);
  for (std::string a; ss >> a;) argv_s.push_back(a);
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    FILE* o = std::freopen(out_path.c_str(), "w", stdout);
    FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    if (o == nullptr || e == nullptr) ::_exit(126);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  OwlRun r;
  const std::string status_path = fmt::format("/proc/{}/status", pid);
  int raw = 0;
  struct rusage ru {};
  for (;;) {
    {
      // Until exec() the child is a copy of this process (Name: owl_tests): its high-water mark is not owl's.
      std::ifstream in(status_path);
      std::string line;
      bool is_owl = false;
      while (std::getline(in, line)) {
        if (line.rfind("Name:", 0) == 0) is_owl = line.find("owl_tests") == std::string::npos;
        if (is_owl && line.rfind("VmHWM:", 0) == 0) {
          r.peak_rss = std::max<uint64_t>(r.peak_rss, std::stoull(line.substr(6)) * 1024);
        }
      }
    }
    const pid_t w = ::wait4(pid, &raw, WNOHANG, &ru);
    if (w == pid) break;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  r.ru_maxrss = static_cast<uint64_t>(ru.ru_maxrss) * 1024;
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

struct BigLlama {
  int64_t n_embd = 1024;
  int64_t n_ff = 2816;
  int64_t n_layer = 2;
  int64_t n_head = 8;
  int64_t n_head_kv = 2;
  int64_t n_ctx_train = 2048;
  owl::DType type = owl::DType::f32;  // matrices; norms stay f32
};

// Random bytes in the block layout of `type` with small, finite scales: no quantizer runs, so a
// few hundred MB take well under a second. The tokenizer (and so the vocabulary) is copied from `vocab`.
inline void write_big_llama(const std::string& path, const BigLlama& s, const owl::gguf::File& vocab) {
  owl::gguf::Writer w;
  w.set("general.architecture", {std::string("llama")});
  w.set("general.name", {std::string("random-llama")});
  w.set("llama.context_length", {static_cast<uint32_t>(s.n_ctx_train)});
  w.set("llama.embedding_length", {static_cast<uint32_t>(s.n_embd)});
  w.set("llama.block_count", {static_cast<uint32_t>(s.n_layer)});
  w.set("llama.feed_forward_length", {static_cast<uint32_t>(s.n_ff)});
  w.set("llama.attention.head_count", {static_cast<uint32_t>(s.n_head)});
  w.set("llama.attention.head_count_kv", {static_cast<uint32_t>(s.n_head_kv)});
  w.set("llama.rope.dimension_count", {static_cast<uint32_t>(s.n_embd / s.n_head)});
  w.set("llama.attention.layer_norm_rms_epsilon", {1e-5f});
  for (const auto& [key, value] : vocab.metadata()) {
    if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
  }
  const int64_t n_vocab = static_cast<int64_t>(vocab.get_array("tokenizer.ggml.tokens").items.size());
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, owl::DType type) {
    const uint64_t my_seed = seed++;
    w.add_tensor(name, shape, type, [shape, type, my_seed] {
      int64_t cols = shape.back();
      int64_t rows = 1;
      for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
      const owl::DTypeTraits& t = owl::dtype_traits(type);
      std::vector<uint8_t> bytes(owl::row_bytes(type, cols) * static_cast<size_t>(rows));
      uint64_t x = my_seed * 0xBF58476D1CE4E5B9ull + 1;
      for (size_t i = 0; i + 8 <= bytes.size(); i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(bytes.data() + i, &x, 8);
      }
      const uint16_t small = owl::fp32_to_fp16(0.01f);
      if (type == owl::DType::f32) {
        for (size_t i = 0; i < bytes.size(); i += 4) {
          const float v = (static_cast<float>(bytes[i]) - 127.5f) / 1024.0f + (shape.size() == 1 ? 1.0f : 0.0f);
          std::memcpy(bytes.data() + i, &v, 4);
        }
      } else if (type == owl::DType::f16) {
        for (size_t i = 0; i < bytes.size(); i += 2) {
          const uint16_t h = owl::fp32_to_fp16((static_cast<float>(bytes[i]) - 127.5f) / 1024.0f);
          std::memcpy(bytes.data() + i, &h, 2);
        }
      } else {
        // q8_0 / q4_0 / q4_1 / q5_0 / q5_1 start with an fp16 scale; K-quants hold d, dmin at 0 and 2
        // (q4_K, q5_K) or at the end (q6_K, q3_K, q2_K): set both ends to a small scale.
        for (size_t b = 0; b < bytes.size(); b += t.block_bytes) {
          std::memcpy(bytes.data() + b, &small, 2);
          std::memcpy(bytes.data() + b + 2, &small, 2);
          std::memcpy(bytes.data() + b + t.block_bytes - 2, &small, 2);
        }
      }
      return bytes;
    });
  };
  const int64_t hd = s.n_embd / s.n_head;
  add("token_embd.weight", {n_vocab, s.n_embd}, s.type);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string p = fmt::format("blk.{}.", l);
    add(p + "attn_norm.weight", {s.n_embd}, owl::DType::f32);
    add(p + "attn_q.weight", {s.n_head * hd, s.n_embd}, s.type);
    add(p + "attn_k.weight", {s.n_head_kv * hd, s.n_embd}, s.type);
    add(p + "attn_v.weight", {s.n_head_kv * hd, s.n_embd}, s.type);
    add(p + "attn_output.weight", {s.n_embd, s.n_head * hd}, s.type);
    add(p + "ffn_norm.weight", {s.n_embd}, owl::DType::f32);
    add(p + "ffn_gate.weight", {s.n_ff, s.n_embd}, s.type);
    add(p + "ffn_up.weight", {s.n_ff, s.n_embd}, s.type);
    add(p + "ffn_down.weight", {s.n_embd, s.n_ff}, s.type);
  }
  add("output_norm.weight", {s.n_embd}, owl::DType::f32);
  add("output.weight", {n_vocab, s.n_embd}, s.type);
  w.write(path);
}
