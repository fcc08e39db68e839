// The slash commands of owl chat: /set and /show (as Ollama's REPL has them), /clear, /system,
// /save, /load, /help and /bye.
#pragma once

#include <memory>
#include <string>

#include "engine/chat_session.h"
#include "engine/loaded_model.h"
#include "sampling/sampler.h"

namespace owl::app {

// What a chat's commands read and change.
struct ChatState {
  const LoadedModel& model;
  ChatSession& session;
  SamplingParams params;  // the sampler's, /set changes them
  int64_t n_predict = 512;
  bool context_shift = true;
  std::unique_ptr<Sampler> sampler;
  void reset_sampler() { sampler = std::make_unique<Sampler>(params); }
};

extern const char* const kChatHelp;

// Runs the command line `input` (it starts with '/'): returns what to tell the user (lines without a
// final newline), sets quit for /bye. Throws owl::Error for a bad command or value, naming it.
std::string run_chat_command(ChatState& state, const std::string& input, bool& quit);

}  // namespace owl::app
