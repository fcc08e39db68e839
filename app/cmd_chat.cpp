// owl chat: an interactive conversation rendered with the model's own chat template. The KV cache
// of earlier turns is kept (engine/chat_session.h), so each turn evaluates only its new tokens.
// In a terminal: line editing and history (libedit), Ctrl-C stops a reply, """ for several lines,
// /set and /show. Piped: one message per input line (or per continued message) and exactly one
// line of output for it: the reply with its line breaks escaped, or with --json a JSON object.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/thread_pool.h"
#include "chat_commands.h"
#include "commands.h"
#include "common.h"
#include "engine/chat_session.h"
#include "line_editor.h"
#include "tools/check/check.h"

namespace owl::app {

namespace {
struct ChatArgs {
  ModelArg model;
  LoraArgs lora;
  std::string system;
  std::string chat_template_file;
  GenerationArgs gen;
  bool no_context_shift = false;
  bool json = false;
};

using Json = nlohmann::ordered_json;

enum class Got { message, nothing, quit };

// One message: a line; lines joined while each ends with '\'; or, from a line starting with """,
// everything up to a line ending with """. Ctrl-C abandons a message (and at an empty prompt quits).
Got read_message(LineEditor& editor, std::string& text) {
  text.clear();
  std::string line;
  bool empty = true;
  const LineEditor::Read first = editor.read(">>> ", line, empty);
  if (first == LineEditor::Read::end) return Got::quit;
  if (first == LineEditor::Read::interrupted) return empty ? Got::quit : Got::nothing;
  if (line.starts_with("\"\"\"")) {
    std::string body = line.substr(3);
    bool closed = body.size() >= 3 && body.ends_with("\"\"\"");
    if (closed) body.resize(body.size() - 3);
    while (!closed) {
      const LineEditor::Read next = editor.read("... ", line, empty);
      if (next == LineEditor::Read::interrupted) return Got::nothing;
      if (next == LineEditor::Read::end) break;
      closed = line.ends_with("\"\"\"");
      if (closed) line.resize(line.size() - 3);
      body += (body.empty() ? "" : "\n") + line;
    }
    text = body;
    editor.remember(text);
    return Got::message;
  }
  while (line.ends_with("\\")) {
    text += line.substr(0, line.size() - 1) + "\n";
    const LineEditor::Read next = editor.read("... ", line, empty);
    if (next == LineEditor::Read::interrupted) return Got::nothing;
    if (next == LineEditor::Read::end) {
      line.clear();
      break;
    }
  }
  text += line;
  editor.remember(text);
  return Got::message;
}

// A reply or message on one line: backslashes, line breaks and carriage returns escaped.
std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

// Where what the user reads goes: streamed to the terminal, or one line per message when piped.
class Output {
 public:
  Output(bool terminal, bool json) : terminal_(terminal), json_(json) {}
  bool terminal() const { return terminal_; }
  void command(const std::string& cmd, const std::string& result) {
    if (terminal_) {
      if (!result.empty()) std::printf("%s\n", result.c_str());
    } else {
      line(json_ ? Json{{"command", cmd}, {"result", result}}.dump() : one_line(result));
    }
  }
  void error(const std::string& message) {
    if (terminal_) {
      std::fprintf(stderr, "owl: error: %s\n", message.c_str());
    } else {
      line(json_ ? Json{{"error", message}}.dump() : "error: " + one_line(message));
    }
  }
  void reply(const ChatSession::Reply& r, bool interrupted) {
    if (terminal_) {
      std::fputs("\n", stdout);
      std::fflush(stdout);
      return;
    }
    if (!json_) return line(one_line(r.text));
    Json j{{"role", "assistant"}, {"content", r.text}, {"tokens", r.stats.n_generated}};
    if (r.stats.context_full) j["stop_reason"] = "context";
    if (interrupted) j["stop_reason"] = "interrupted";
    line(j.dump());
  }

 private:
  void line(const std::string& text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
  bool terminal_;
  bool json_;
};

void chat(const ChatArgs& a) {
  validate(a.gen.sampling);
  structured_output_gbnf(a.gen);  // before the model load
  const auto m = LoadedModel::load(a.model.path(), adapters_for(a.model, a.lora));
  apply_chat_template_file(*m, a.chat_template_file);
  const int64_t n_ctx = context_size(a.gen, m->spec());
  check_model_before_run(m->model(), n_ctx, kv_type(a.gen), a.gen.force);

  const auto pool = without_interrupts([&] { return std::make_unique<ThreadPool>(a.gen.threads > 0 ? a.gen.threads : default_threads()); });
  ChatSession session(*m, *pool, n_ctx, kv_type(a.gen));
  session.set_system(a.system);
  ChatState state{*m, session, resolve_sampling(a.gen, *m), a.gen.n_predict, !a.no_context_shift, nullptr};
  state.reset_sampler();

  const bool terminal = ::isatty(STDIN_FILENO) != 0;
  const std::string state_dir = check::state_dir();
  LineEditor editor(terminal, state_dir.empty() ? "" : state_dir + "/chat_history");
  Output out(editor.terminal(), a.json);
  std::unique_ptr<InterruptGuard> guard;
  if (out.terminal()) {
    guard = std::make_unique<InterruptGuard>();
    std::fprintf(stderr, "owl chat: %s, template: %s. /help for commands, Ctrl-D or /bye to leave.\n",
                 m->spec().name.c_str(), m->chat_template().describe().c_str());
  }
  std::string input;
  for (;;) {
    const Got got = read_message(editor, input);
    if (got == Got::quit) break;
    if (got == Got::nothing) continue;
    if (input.empty()) {
      if (!out.terminal()) out.error("empty message");
      continue;
    }
    if (input[0] == '/') {
      try {
        bool quit = false;
        const std::string result = run_chat_command(state, input, quit);
        if (quit) break;
        out.command(input.substr(0, input.find(' ')), result);
      } catch (const owl::Error& e) {
        out.error(e.what());
      }
      continue;
    }
    session.set_context_shift(state.context_shift, state.n_predict > 0 ? state.n_predict : n_ctx / 4);
    InterruptGuard::clear();
    ChatSession::Reply reply;
    try {
      reply = session.send(input, *state.sampler, state.n_predict, [&](const std::string& piece) {
        if (out.terminal()) {
          std::fwrite(piece.data(), 1, piece.size(), stdout);
          std::fflush(stdout);
        }
        return !InterruptGuard::pending();  // Ctrl-C: the reply so far stays in the conversation
      });
    } catch (const owl::Error& e) {
      out.error(e.what());
      continue;
    }
    const bool interrupted = InterruptGuard::pending();
    InterruptGuard::clear();
    if (reply.dropped > 0) {
      std::fprintf(stderr, "owl: the context was full: the %zu oldest messages were dropped (--no-context-shift refuses instead)\n",
                   reply.dropped);
    }
    out.reply(reply, interrupted);
    if (reply.stats.context_full) {
      std::fputs("owl: the reply stopped because the context is full: /clear to start over\n", stderr);
    }
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
  cmd->add_flag("--no-context-shift", a->no_context_shift,
                "Refuse a turn that does not fit the context instead of dropping the oldest turns");
  cmd->add_flag("--json", a->json, "Piped input: each reply (or error) as one JSON object per line");
  a->gen.n_predict = 512;  // a reply, not a completion: longer by default
  add_generation_options(*cmd, a->gen);
  cmd->callback([a] { chat(*a); });
}

}  // namespace owl::app
