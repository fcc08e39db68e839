// A conversation with a model: messages rendered with its template, encoded, and generated with
// the KV cache of earlier turns kept (Session), the reply streamed as text and appended.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/loaded_model.h"
#include "engine/session.h"
#include "engine/text_stream.h"

namespace owl {

class ChatSession {
 public:
  ChatSession(const LoadedModel& model, ThreadPool& pool, int64_t n_ctx, DType kv_type = DType::f16);

  // Sets (or with "" removes) the system message at the start of the conversation.
  void set_system(const std::string& text);
  std::string system() const;
  // Forgets every message but the system one.
  void clear();
  const nlohmann::ordered_json& messages() const { return messages_; }
  // Replaces the conversation (checked like any message list; owl::Error naming the bad message).
  void set_messages(nlohmann::ordered_json messages);

  // With the context shift on, a turn that would leave fewer than `reserve` tokens (at most half the
  // context) for the reply first drops the oldest turns after the system prompt (each up to the next
  // user message) until it fits. Off (the default), such a turn is refused only when its prompt
  // alone fills the context.
  void set_context_shift(bool on, int64_t reserve);

  struct Reply {
    std::string text;
    GenerateStats stats;
    size_t dropped = 0;  // messages the context shift dropped before this turn
  };
  // Adds the user's message, generates the assistant's reply (each piece of text to on_text, which
  // returns false to stop; the reply ends before the first stop string) and appends it, also when it
  // was stopped. When the conversation no longer fits the context (even after the shift), throws
  // owl::Error and leaves the conversation as it was.
  Reply send(const std::string& user, Sampler& sampler, int64_t n_predict,
             const std::function<bool(const std::string&)>& on_text, const std::vector<std::string>& stop = {});

  int64_t n_ctx() const { return session_.n_ctx(); }

 private:
  const LoadedModel& model_;
  Session session_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
  bool shift_ = false;
  int64_t reserve_ = 0;
};

}  // namespace owl
