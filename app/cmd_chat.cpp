// owl chat: an interactive conversation rendered with the model's own chat template. The KV cache
// of earlier turns is kept (engine/chat_session.h), so each turn evaluates only its new tokens. Without
// a terminal, every input line is one user message and gets one reply.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/thread_pool.h"
#include "commands.h"
#include "common.h"
#include "engine/chat_session.h"

namespace owl::app {

namespace {
struct ChatArgs {
  ModelArg model;
  LoraArgs lora;
  std::string system;
  std::string chat_template_file;
  GenerationArgs gen;
};

using Json = nlohmann::ordered_json;

const char* const kHelp =
    "commands: /clear (forget the conversation), /system TEXT (set the system prompt), /save FILE, /load FILE, "
    "/bye (or end of input). End a line with \\ to continue on the next line.\n";

// One message from the user: a line, or several joined when each but the last ends with '\'.
// Returns false at end of input.
bool read_message(bool interactive, std::string& text) {
  text.clear();
  std::string line;
  if (interactive) std::fputs("> ", stdout), std::fflush(stdout);
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\\') {
      text += line.substr(0, line.size() - 1) + "\n";
      if (interactive) std::fputs(". ", stdout), std::fflush(stdout);
      continue;
    }
    text += line;
    return true;
  }
  return !text.empty();
}

void chat(const ChatArgs& a) {
  validate(a.gen.sampling);
  structured_output_gbnf(a.gen);  // before the model load
  const auto m = LoadedModel::load(a.model.path(), a.lora.requests());
  apply_chat_template_file(*m, a.chat_template_file);
  const int64_t n_ctx = context_size(a.gen, m->spec());
  check_model_before_run(m->model(), n_ctx, kv_type(a.gen), a.gen.force);

  ThreadPool pool(a.gen.threads > 0 ? a.gen.threads : default_threads());
  ChatSession session(*m, pool, n_ctx, kv_type(a.gen));
  session.set_system(a.system);
  Sampler sampler(resolve_sampling(a.gen, *m));

  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  if (interactive) {
    std::fprintf(stderr, "owl chat: %s, template: %s. /help for commands.\n", m->spec().name.c_str(),
                 m->chat_template().describe().c_str());
  }
  std::string input;
  while (read_message(interactive, input)) {
    if (input.empty()) continue;
    if (input[0] == '/') {
      const size_t space = input.find(' ');
      const std::string cmd = input.substr(0, space);
      const std::string arg = space == std::string::npos ? "" : input.substr(space + 1);
      try {
        if (cmd == "/bye") break;
        if (cmd == "/help") {
          std::fputs(kHelp, stderr);
        } else if (cmd == "/clear") {
          session.clear();
          std::fputs("(conversation cleared)\n", stderr);
        } else if (cmd == "/system") {
          session.set_system(arg);
          std::fputs("(system prompt set)\n", stderr);
        } else if (cmd == "/save") {
          if (arg.empty()) fail("/save needs a file name");
          atomic_write(arg, Json{{"messages", session.messages()}}.dump(2) + "\n");
          std::fprintf(stderr, "(saved %zu messages to %s)\n", session.messages().size(), arg.c_str());
        } else if (cmd == "/load") {
          std::ifstream in(arg);
          if (!in) fail("{}: cannot open", arg);
          Json j = Json::parse(in, nullptr, false);
          if (j.is_discarded()) fail("{}: not valid JSON", arg);
          session.set_messages(j.is_object() ? j.value("messages", Json()) : j);
          std::fprintf(stderr, "(loaded %zu messages from %s)\n", session.messages().size(), arg.c_str());
        } else {
          std::fprintf(stderr, "unknown command %s\n%s", cmd.c_str(), kHelp);
        }
      } catch (const owl::Error& e) {
        std::fprintf(stderr, "owl: error: %s\n", e.what());
      }
      continue;
    }
    ChatSession::Reply reply;
    try {
      reply = session.send(input, sampler, a.gen.n_predict, [](const std::string& piece) {
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
        return true;
      });
    } catch (const owl::Error& e) {
      std::fprintf(stderr, "owl: %s\n", e.what());
      continue;
    }
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (reply.stats.context_full) std::fputs("owl: the reply stopped because the context is full: /clear to start over\n", stderr);
  }
}
}  // namespace

void add_chat(CLI::App& app) {
  auto a = std::make_shared<ChatArgs>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with a model, using its own chat template");
  add_model_option(*cmd, a->model);
  add_lora_options(*cmd, a->lora);
  cmd->add_option("--system", a->system, "System prompt");
  add_chat_template_option(*cmd, a->chat_template_file);
  a->gen.n_predict = 512;  // a reply, not a completion: longer by default
  add_generation_options(*cmd, a->gen);
  cmd->callback([a] { chat(*a); });
}

}  // namespace owl::app
