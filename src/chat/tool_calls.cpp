// Tool-call formats, each as its official chat template writes an assistant's calls (see the
// templates in llama.cpp's models/templates collection): the same text read back.

#include "chat/tool_calls.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

namespace owl::chat {

namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kHermesOpen = "<tool_call>";
constexpr std::string_view kHermesClose = "</tool_call>";
constexpr std::string_view kMistral = "[TOOL_CALLS]";
constexpr std::string_view kMistralId = "[CALL_ID]";
constexpr std::string_view kMistralArgs = "[ARGS]";
constexpr std::string_view kPythonTag = "<|python_tag|>";
constexpr std::string_view kFunctionOpen = "<function=";
constexpr std::string_view kFunctionClose = "</function>";
constexpr std::string_view kFunctionaryHeader = ">>>";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The end of the JSON object or array starting at s[pos] (after blanks), or npos when there is
// none or it is unfinished. Tracks strings and escapes; the value itself is checked by the parser.
size_t json_value_end(std::string_view s, size_t pos) {
  while (pos < s.size() && is_space(s[pos])) ++pos;
  if (pos >= s.size() || (s[pos] != '{' && s[pos] != '[')) return std::string_view::npos;
  int depth = 0;
  bool in_string = false;
  for (size_t i = pos; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

std::optional<Json> parse_json(std::string_view s) {
  Json j = Json::parse(s.begin(), s.end(), nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

// {"name": ..., "arguments" | "parameters": {...} or "{...}"} as a call.
std::optional<ToolCall> call_of(const Json& j) {
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) return std::nullopt;
  ToolCall call;
  call.name = j["name"].get<std::string>();
  const char* key = j.contains("arguments") ? "arguments" : j.contains("parameters") ? "parameters" : nullptr;
  if (key == nullptr) {
    call.arguments = "{}";
  } else if (j[key].is_string()) {
    const auto inner = parse_json(j[key].get<std::string>());
    call.arguments = inner && inner->is_object() ? inner->dump() : j[key].get<std::string>();
  } else if (j[key].is_object()) {
    call.arguments = j[key].dump();
  } else {
    return std::nullopt;
  }
  if (j.contains("id") && j["id"].is_string()) call.id = j["id"].get<std::string>();
  return call;
}

// Consecutive JSON values (separated by blanks or ';'), each a call; nullopt unless all are.
std::optional<std::vector<ToolCall>> calls_in(std::string_view s) {
  std::vector<ToolCall> calls;
  size_t pos = 0;
  for (;;) {
    while (pos < s.size() && (is_space(s[pos]) || s[pos] == ';')) ++pos;
    if (pos == s.size()) break;
    const size_t end = json_value_end(s, pos);
    if (end == std::string_view::npos) return std::nullopt;
    const auto j = parse_json(s.substr(pos, end - pos));
    if (!j) return std::nullopt;
    if (j->is_array()) {
      for (const Json& item : *j) {
        auto call = call_of(item);
        if (!call) return std::nullopt;
        calls.push_back(std::move(*call));
      }
    } else {
      auto call = call_of(*j);
      if (!call) return std::nullopt;
      calls.push_back(std::move(*call));
    }
    pos = end;
  }
  if (calls.empty()) return std::nullopt;
  return calls;
}

ParsedReply parse_hermes(std::string_view text) {
  ParsedReply r;
  size_t pos = 0;
  for (size_t start; (start = text.find(kHermesOpen, pos)) != std::string_view::npos;) {
    r.content += text.substr(pos, start - pos);
    const size_t body = start + kHermesOpen.size();
    const size_t close = text.find(kHermesClose, body);
    const size_t end = close == std::string_view::npos ? text.size() : close + kHermesClose.size();
    auto calls = calls_in(text.substr(body, (close == std::string_view::npos ? text.size() : close) - body));
    if (calls) {
      for (auto& c : *calls) r.calls.push_back(std::move(c));
    } else {
      r.content += text.substr(start, end - start);
    }
    pos = end;
  }
  r.content += text.substr(pos);
  return r;
}

ParsedReply parse_llama3(std::string_view text) {
  ParsedReply r;
  std::string_view rest = text;
  if (const size_t tag = text.find(kPythonTag); tag != std::string_view::npos) {
    r.content = text.substr(0, tag);
    rest = text.substr(tag + kPythonTag.size());
  }
  if (auto calls = calls_in(rest)) {
    r.calls = std::move(*calls);
  } else {
    r.content = text;
  }
  return r;
}

ParsedReply parse_mistral(std::string_view text) {
  ParsedReply r;
  const size_t marker = text.find(kMistral);
  if (marker == std::string_view::npos) {
    // A JSON list of calls alone: what a forced call writes (the marker is a control token).
    if (trim(text).starts_with("[")) {
      if (auto calls = calls_in(trim(text))) return {"", std::move(*calls)};
    }
    return {std::string(text), {}};
  }
  r.content = text.substr(0, marker);
  std::string_view rest = text.substr(marker + kMistral.size());
  while (!rest.empty()) {
    rest = trim(rest);
    if (!rest.empty() && rest.front() == '[') {  // v3: a JSON list of calls
      const size_t end = json_value_end(rest, 0);
      auto calls = end == std::string_view::npos ? std::nullopt : calls_in(rest.substr(0, end));
      if (!calls) return {std::string(text), {}};
      for (auto& c : *calls) r.calls.push_back(std::move(c));
      rest = rest.substr(end);
    } else {  // v7: name[CALL_ID]id[ARGS]{...}
      const size_t args = rest.find(kMistralArgs);
      if (args == std::string_view::npos) return {std::string(text), {}};
      ToolCall call;
      std::string_view head = rest.substr(0, args);
      if (const size_t id = head.find(kMistralId); id != std::string_view::npos) {
        call.id = trim(head.substr(id + kMistralId.size()));
        head = head.substr(0, id);
      }
      call.name = trim(head);
      const size_t body = args + kMistralArgs.size();
      const size_t end = json_value_end(rest, body);
      const auto j = end == std::string_view::npos ? std::nullopt : parse_json(rest.substr(body, end - body));
      if (call.name.empty() || !j || !j->is_object()) return {std::string(text), {}};
      call.arguments = j->dump();
      r.calls.push_back(std::move(call));
      rest = rest.substr(end);
    }
    rest = trim(rest);
    if (rest.starts_with(kMistral)) rest.remove_prefix(kMistral.size());
    else if (!rest.empty()) r.content += rest, rest = {};
  }
  return r;
}

ParsedReply parse_functionary_v31(std::string_view text) {
  ParsedReply r;
  size_t pos = 0;
  for (size_t start; (start = text.find(kFunctionOpen, pos)) != std::string_view::npos;) {
    r.content += text.substr(pos, start - pos);
    const size_t name_end = text.find('>', start);
    const size_t end = name_end == std::string_view::npos ? std::string_view::npos : json_value_end(text, name_end + 1);
    const auto j = end == std::string_view::npos ? std::nullopt : parse_json(text.substr(name_end + 1, end - name_end - 1));
    if (!j || !j->is_object()) {
      r.content += text.substr(start);
      return r;
    }
    const size_t name_start = start + kFunctionOpen.size();
    r.calls.push_back({"", std::string(text.substr(name_start, name_end - name_start)), j->dump()});
    pos = end;
    if (text.substr(pos).starts_with(kFunctionClose)) pos += kFunctionClose.size();
  }
  r.content += text.substr(pos);
  return r;
}

ParsedReply parse_functionary_v32(std::string_view text) {
  // The prompt ends with ">>>": the reply starts inside the first header.
  std::string full = text.starts_with(kFunctionaryHeader) ? std::string(text) : std::string(kFunctionaryHeader) + std::string(text);
  ParsedReply r;
  size_t pos = 0;
  while (pos < full.size()) {
    const size_t header = pos + kFunctionaryHeader.size();
    const size_t newline = full.find('\n', header);
    if (newline == std::string::npos) return {std::string(text), {}};
    const std::string name(trim(std::string_view(full).substr(header, newline - header)));
    size_t next = full.find(kFunctionaryHeader, newline + 1);
    if (next == std::string::npos) next = full.size();
    const std::string_view body = std::string_view(full).substr(newline + 1, next - newline - 1);
    if (name == "all") {
      r.content += body;
    } else {
      const auto j = parse_json(trim(body));
      if (!j || !j->is_object()) return {std::string(text), {}};
      r.calls.push_back({"", name, j->dump()});
    }
    pos = next;
  }
  return r;
}

ParsedReply parse_generic(std::string_view text) {
  const auto j = parse_json(trim(text));
  if (!j || !j->is_object()) return {std::string(text), {}};
  if (j->contains("tool_calls") && (*j)["tool_calls"].is_array()) {
    if (auto calls = calls_in((*j)["tool_calls"].dump())) return {"", std::move(*calls)};
  } else if (j->contains("tool_call")) {
    if (auto call = call_of((*j)["tool_call"])) return {"", {std::move(*call)}};
  } else if (j->contains("response") && (*j)["response"].is_string() && j->size() == 1) {
    return {(*j)["response"].get<std::string>(), {}};
  } else if (auto call = call_of(*j); call && j->contains("arguments")) {
    return {"", {std::move(*call)}};
  }
  return {std::string(text), {}};
}

}  // namespace

ToolCallFormat detect_tool_call_format(std::string_view t) {
  if (t.find(kMistral) != std::string_view::npos) return ToolCallFormat::mistral;
  if (t.find(kHermesOpen) != std::string_view::npos) return ToolCallFormat::hermes;
  if (t.find(kFunctionOpen) != std::string_view::npos) return ToolCallFormat::functionary_v31;
  if (t.find(">>>all") != std::string_view::npos || t.find("'>>>' + tool_call") != std::string_view::npos) {
    return ToolCallFormat::functionary_v32;
  }
  if (t.find(kPythonTag) != std::string_view::npos ||
      (t.find("ipython") != std::string_view::npos && t.find("\"parameters\"") != std::string_view::npos)) {
    return ToolCallFormat::llama3;
  }
  return ToolCallFormat::generic;
}

std::string_view tool_call_format_name(ToolCallFormat f) {
  switch (f) {
    case ToolCallFormat::generic: return "generic";
    case ToolCallFormat::llama3: return "llama3";
    case ToolCallFormat::hermes: return "hermes";
    case ToolCallFormat::mistral: return "mistral";
    case ToolCallFormat::functionary_v31: return "functionary-v3.1";
    case ToolCallFormat::functionary_v32: return "functionary-v3.2";
  }
  return "generic";
}

std::vector<std::string_view> tool_call_markers(ToolCallFormat f) {
  if (f == ToolCallFormat::mistral) return {kMistral, kMistralId, kMistralArgs};
  if (f == ToolCallFormat::llama3 || f == ToolCallFormat::functionary_v31) return {kPythonTag};
  if (f == ToolCallFormat::hermes) return {kHermesOpen, kHermesClose};
  return {};
}

ParsedReply parse_tool_calls(ToolCallFormat format, std::string_view text) {
  ParsedReply r;
  switch (format) {
    case ToolCallFormat::generic: r = parse_generic(text); break;
    case ToolCallFormat::llama3: r = parse_llama3(text); break;
    case ToolCallFormat::hermes: r = parse_hermes(text); break;
    case ToolCallFormat::mistral: r = parse_mistral(text); break;
    case ToolCallFormat::functionary_v31: r = parse_functionary_v31(text); break;
    case ToolCallFormat::functionary_v32: r = parse_functionary_v32(text); break;
  }
  if (!r.calls.empty()) {
    r.content = std::string(trim(r.content));
    // An empty reasoning block (Qwen 3 writes one before calls when thinking is off) says nothing.
    if (r.content.starts_with("<think>") && r.content.ends_with("</think>") &&
        trim(std::string_view(r.content).substr(7, r.content.size() - 15)).empty()) {
      r.content.clear();
    }
  }
  for (ToolCall& c : r.calls) {
    if (c.id.empty()) c.id = new_tool_call_id();
  }
  return r;
}

size_t ToolCallStream::hold_from() const {
  const std::string_view t = text_;
  switch (format_) {
    case ToolCallFormat::functionary_v32:
      return 0;  // every reply starts with a header that says what follows
    case ToolCallFormat::generic:
    case ToolCallFormat::llama3: {
      // A reply that is (or may yet be) a JSON call is held whole.
      const std::string_view head = trim(t);
      if (head.empty() || head.front() == '{') return 0;
      if (format_ == ToolCallFormat::generic) return std::string_view::npos;
      break;
    }
    default:
      break;
  }
  const std::string_view marker = format_ == ToolCallFormat::mistral  ? kMistral
                                  : format_ == ToolCallFormat::hermes ? kHermesOpen
                                  : format_ == ToolCallFormat::llama3 ? kPythonTag
                                                                      : kFunctionOpen;
  if (const size_t at = t.find(marker); at != std::string_view::npos) return at;
  // The longest end of the text that could begin the marker.
  for (size_t n = std::min(marker.size() - 1, t.size()); n > 0; --n) {
    if (marker.starts_with(t.substr(t.size() - n))) return t.size() - n;
  }
  return std::string_view::npos;
}

std::string ToolCallStream::feed(std::string_view text) {
  text_ += text;
  const size_t hold = std::min(hold_from(), text_.size());
  if (hold <= released_) return "";
  std::string out = text_.substr(released_, hold - released_);
  released_ = hold;
  return out;
}

ParsedReply ToolCallStream::finish() {
  ParsedReply r = parse_tool_calls(format_, std::string_view(text_).substr(released_));
  released_ = text_.size();
  return r;
}

std::string new_tool_call_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string id(9, 'a');
  for (char& c : id) c = kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
  return id;
}

}  // namespace owl::chat
