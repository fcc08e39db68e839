// owl's public C++ API: load an open-weight model, generate text from a prompt, or chat with it
// in its own chat template, with the text streamed to a callback as it is produced. Everything
// else in the library is internal; this header includes nothing of it.
//
//   auto model = owl::api::Model::load("model.gguf");
//   owl::api::GenerateParams p;
//   p.temperature = 0;
//   model->generate("Once upon a time", p, [](std::string_view s) { std::cout << s; return true; });
//   auto chat = model->chat("You are helpful.");
//   chat->send("Hello!", p, print);
//
// Errors (a malformed file, a prompt longer than the context) throw std::runtime_error with a
// one-line message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace owl::api {

struct GenerateParams {
  int64_t max_tokens = 128;  // < 0: until the model ends the text or the context is full
  float temperature = 0.8f;  // 0: greedy
  int32_t top_k = 40;        // 0: off
  float top_p = 0.95f;       // 1: off
  float min_p = 0.05f;       // 0: off
  float repeat_penalty = 1.0f;
  uint64_t seed = 0;         // same seed, same text
  std::vector<std::string> stop;  // stop strings (not included in the text)
};

struct GenerateResult {
  std::string text;
  int64_t prompt_tokens = 0;
  int64_t generated_tokens = 0;
  double prompt_tokens_per_second = 0;
  double tokens_per_second = 0;
  std::string finish_reason;  // "stop" (end of text or a stop string) or "length"
};

// Receives each piece of text as it is generated; return false to stop early.
using TextCallback = std::function<bool(std::string_view piece)>;

class Chat;

class Model {
 public:
  // threads <= 0: one per core. n_ctx <= 0: the model's training context, at most 4096.
  static std::unique_ptr<Model> load(const std::string& path, int threads = 0, int64_t n_ctx = 0);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  std::string architecture() const;  // "llama", "gemma2", ...
  int64_t context_length() const;    // the context generate() and chats use
  std::vector<int32_t> tokenize(const std::string& text) const;

  // Continues prompt (taken literally, BOS as the model wants). The callback sees only new text.
  GenerateResult generate(const std::string& prompt, const GenerateParams& params, const TextCallback& on_text = {});
  // A conversation that keeps its history (and its KV cache) between send() calls. It uses this
  // Model: destroy it first.
  std::unique_ptr<Chat> chat(const std::string& system_prompt = "");

 private:
  struct Impl;
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Chat;
};

class Chat {
 public:
  ~Chat();
  // Sends the user's message and returns the assistant's reply (streamed to on_text as it comes).
  GenerateResult send(const std::string& message, const GenerateParams& params, const TextCallback& on_text = {});
  void clear();  // forget everything but the system prompt
  size_t n_messages() const;

 private:
  struct Impl;
  explicit Chat(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Model;
};

}  // namespace owl::api
