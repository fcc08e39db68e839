#include "chat_commands.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/human_units.h"
#include "common.h"
#include "tools/check/license.h"

namespace owl::app {

using Json = nlohmann::ordered_json;

const char* const kChatHelp =
    "/set PARAMETER VALUE    temperature, top_k, top_p, min_p, repeat_penalty, seed, num_predict\n"
    "/set system TEXT        the system prompt (also /system TEXT)\n"
    "/show [WHAT]            info, parameters, template, license or system (no argument: info and parameters)\n"
    "/clear                  forget the conversation (the system prompt stays)\n"
    "/save FILE, /load FILE  the conversation as JSON messages\n"
    "/bye                    leave (also Ctrl-D, or Ctrl-C at an empty prompt)\n"
    "Ctrl-C stops a reply and keeps the conversation; \"\"\" begins and ends a message of several lines,\n"
    "and a line ending in \\ goes on on the next one.";

namespace {

std::string word_after(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  const size_t end = std::min(rest.find(' '), rest.size());
  std::string word(rest.substr(0, end));
  rest.remove_prefix(end);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return word;
}

// A value in the range the command-line option takes, or owl::Error saying what is wrong.
double number(const std::string& name, const std::string& text, NumberRange range) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) fail("/set {}: '{}' is not a number", name, text);
  if (!(v >= range.lo && v <= range.hi)) fail("/set {}: {} is not in [{}, {}]", name, text, range.lo, range.hi);
  return v;
}

int64_t whole_number(const std::string& name, const std::string& text, WholeRange range) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    fail("/set {}: '{}' is not a whole number in [{}, {}]", name, text, range.lo, range.hi);
  }
  if (v < range.lo || v > range.hi) fail("/set {}: {} is not in [{}, {}]", name, text, range.lo, range.hi);
  return v;
}

std::string set_parameter(ChatState& s, std::string_view rest) {
  std::string name = word_after(rest);
  if (name == "parameter") name = word_after(rest);  // Ollama's spelling: /set parameter NAME VALUE
  if (name.empty()) fail("/set needs a parameter and a value (/help lists them)");
  if (name == "system") {
    std::string text(rest);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
    s.session.set_system(text);
    return text.empty() ? "(system prompt removed)" : "(system prompt set)";
  }
  const std::string value(rest);
  SamplingParams p = s.params;
  int64_t n_predict = s.n_predict;
  if (name == "temperature") {
    p.temperature = static_cast<float>(number(name, value, kTemperatureRange));
  } else if (name == "top_k") {
    p.top_k = static_cast<int32_t>(whole_number(name, value, kTopKRange));
  } else if (name == "top_p") {
    p.top_p = static_cast<float>(number(name, value, kTopPRange));
  } else if (name == "min_p") {
    p.min_p = static_cast<float>(number(name, value, kMinPRange));
  } else if (name == "repeat_penalty") {
    p.repeat_penalty = static_cast<float>(number(name, value, kRepeatPenaltyRange));
  } else if (name == "seed") {
    p.seed = static_cast<uint64_t>(whole_number(name, value, kSeedRange));
  } else if (name == "num_predict") {
    n_predict = whole_number(name, value, kPredictRange);
  } else {
    fail("/set: unknown parameter '{}' (temperature, top_k, top_p, min_p, repeat_penalty, seed, num_predict, system)", name);
  }
  s.params = p;
  s.n_predict = n_predict;
  s.reset_sampler();
  return fmt::format("({} set to {})", name, value);
}

std::string show_info(const ChatState& s) {
  const ModelFile& f = s.model.model().file();
  const ModelSpec& spec = s.model.spec();
  std::string out;
  if (!spec.name.empty()) out += fmt::format("name            {}\n", spec.name);
  out += fmt::format("architecture    {}\n", spec.arch);
  out += fmt::format("parameters      {}\n", human_count(f.parameter_count()));
  out += fmt::format("context         {} tokens in use, {} trained\n", s.session.n_ctx(), spec.n_ctx_train);
  out += fmt::format("chat template   {}\n", s.model.chat_template().describe());
  out += fmt::format("file            {}", f.path());
  return out;
}

std::string show_parameters(const ChatState& s) {
  const SamplingParams& p = s.params;
  return fmt::format(
      "temperature     {}\ntop_k           {}\ntop_p           {}\nmin_p           {}\nrepeat_penalty  {}\n"
      "seed            {}\nnum_predict     {}\ncontext shift   {}",
      p.temperature, p.top_k, p.top_p, p.min_p, p.repeat_penalty, p.seed, s.n_predict, s.context_shift ? "on" : "off");
}

std::string show(const ChatState& s, const std::string& what) {
  if (what.empty()) return show_info(s) + "\n" + show_parameters(s);
  if (what == "info" || what == "model") return show_info(s);
  if (what == "parameters") return show_parameters(s);
  if (what == "system") return s.session.system().empty() ? "(no system prompt)" : s.session.system();
  if (what == "license") {
    return check::license_report(s.model.model().file(), check::Use::personal, std::nullopt).summary_line();
  }
  if (what == "template") {
    const auto& t = s.model.chat_template();
    std::string source = t.source;
    while (!source.empty() && source.back() == '\n') source.pop_back();
    return "chat template: " + t.describe() + "\n" + source;
  }
  fail("/show: unknown '{}' (info, parameters, template, license, system)", what);
}

}  // namespace

std::string run_chat_command(ChatState& s, const std::string& input, bool& quit) {
  std::string_view rest(input);
  const std::string cmd = word_after(rest);
  const std::string arg(rest);
  if (cmd == "/bye" || cmd == "/exit") {
    quit = true;
    return "";
  }
  if (cmd == "/help" || cmd == "/?") return kChatHelp;
  if (cmd == "/set") return set_parameter(s, rest);
  if (cmd == "/show") return show(s, arg);
  if (cmd == "/clear") {
    s.session.clear();
    return "(conversation cleared)";
  }
  if (cmd == "/system") {
    s.session.set_system(arg);
    return arg.empty() ? "(system prompt removed)" : "(system prompt set)";
  }
  if (cmd == "/save") {
    if (arg.empty()) fail("/save needs a file name");
    atomic_write(arg, Json{{"messages", s.session.messages()}}.dump(2) + "\n");
    return fmt::format("(saved {} messages to {})", s.session.messages().size(), arg);
  }
  if (cmd == "/load") {
    if (arg.empty()) fail("/load needs a file name");
    std::ifstream in(arg);
    if (!in) fail("{}: cannot open", arg);
    Json j = Json::parse(in, nullptr, false);
    if (j.is_discarded()) fail("{}: not valid JSON", arg);
    s.session.set_messages(j.is_object() ? j.value("messages", Json()) : j);
    return fmt::format("(loaded {} messages from {})", s.session.messages().size(), arg);
  }
  fail("unknown command {} (/help lists them)", cmd);
}

}  // namespace owl::app
