// Reading fine-tuning JSONL (train/dataset.h). Per line: the format is chosen by its keys, as
// mlx-lm's dataset classes do; chat-shaped data goes through the model's template, plain data
// through the tokenizer (BOS as the model wants it, EOS appended as mlx-lm does).
#include "train/dataset.h"

#include <filesystem>
#include <fstream>

#include "base/error.h"

namespace owl::train {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

int64_t Dataset::n_targets() const {
  int64_t n = 0;
  for (const Example& e : examples) {
    for (uint8_t t : e.targets) n += t;
  }
  return n;
}

int64_t Dataset::n_tokens() const {
  int64_t n = 0;
  for (const Example& e : examples) n += static_cast<int64_t>(e.tokens.size());
  return n;
}

namespace {

// Every position after the first `from` tokens is a target (never position 0: nothing predicts it).
Example with_targets_from(std::vector<int32_t> tokens, size_t from) {
  Example e;
  e.targets.assign(tokens.size(), 0);
  for (size_t t = std::max<size_t>(from, 1); t < tokens.size(); ++t) e.targets[t] = 1;
  e.tokens = std::move(tokens);
  return e;
}

void append_eos(std::vector<int32_t>& tokens, int32_t eos) {
  if (eos >= 0 && (tokens.empty() || tokens.back() != eos)) tokens.push_back(eos);
}

std::string string_field(const Json& line, const char* key, const std::string& where) {
  const Json& v = line[key];
  if (!v.is_string()) fail("{}: \"{}\" must be a string", where, key);
  return v.get<std::string>();
}

// Tokens of the chat prefix a masked prompt ends with: the conversation before the last turn, with
// the generation prompt the assistant's reply follows.
size_t chat_prefix(const Encoder& enc, const Json& messages, const Json& tools, const std::vector<int32_t>& full,
                   const std::string& where) {
  Json head = Json::array();
  for (size_t i = 0; i + 1 < messages.size(); ++i) head.push_back(messages[i]);
  const std::vector<int32_t> prefix = enc.chat_tokens(enc.render(head, tools, true));
  if (prefix.size() > full.size() || !std::equal(prefix.begin(), prefix.end(), full.begin())) {
    fail("{}: the chat template renders the last turn's prefix differently from the whole conversation, so the "
         "prompt cannot be masked",
         where);
  }
  return prefix.size();
}

Example chat_example(const Encoder& enc, const Json& messages, const Json& tools, bool mask_prompt,
                     const std::string& where) {
  if (!messages.is_array() || messages.empty()) fail("{}: \"messages\" must be a non-empty list", where);
  if (!tools.is_null() && !tools.is_array()) fail("{}: \"tools\" must be a list", where);
  if (!enc.render) fail("{}: chat data needs a model with a chat template", where);
  std::vector<int32_t> tokens = enc.chat_tokens(enc.render(messages, tools, false));
  size_t from = 1;
  if (mask_prompt) {
    const Json& last = messages.back();
    if (!last.is_object() || last.value("role", "") != "assistant") {
      fail("{}: --mask-prompt needs the last message to be the assistant's", where);
    }
    from = chat_prefix(enc, messages, tools, tokens, where);
  }
  return with_targets_from(std::move(tokens), from);
}

Example parse_line(const Json& line, const Encoder& enc, const DatasetOptions& o, const std::string& where) {
  if (!line.is_object()) fail("{}: each line must be a JSON object", where);
  if (line.contains("tokens")) {
    const Json& tokens = line["tokens"];
    if (!tokens.is_array() || tokens.empty()) fail("{}: \"tokens\" must be a non-empty list of ids", where);
    Example e;
    for (const Json& id : tokens) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= enc.n_vocab) {
        fail("{}: token {} is not an id of this model's vocabulary (0 to {})", where, id.dump(), enc.n_vocab - 1);
      }
      e.tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
    }
    if (line.contains("mask")) {
      const Json& mask = line["mask"];
      if (!mask.is_array() || mask.size() != tokens.size()) fail("{}: \"mask\" must list one 0 or 1 per token", where);
      for (size_t t = 0; t < mask.size(); ++t) {
        if (!mask[t].is_number_integer() || (mask[t] != 0 && mask[t] != 1)) fail("{}: \"mask\" values must be 0 or 1", where);
        e.targets.push_back(t == 0 ? 0 : static_cast<uint8_t>(mask[t].get<int>()));
      }
    } else {
      e = with_targets_from(std::move(e.tokens), 1);
    }
    return e;
  }
  if (line.contains("messages")) {
    return chat_example(enc, line["messages"], line.contains("tools") ? line["tools"] : Json(nullptr), o.mask_prompt, where);
  }
  if (line.contains("prompt") || line.contains("completion")) {
    const std::string prompt = string_field(line, "prompt", where), completion = string_field(line, "completion", where);
    if (enc.render) {  // mlx-lm: a user turn and the assistant's reply through the chat template
      const Json messages = Json::array({Json{{"role", "user"}, {"content", prompt}},
                                         Json{{"role", "assistant"}, {"content", completion}}});
      return chat_example(enc, messages, nullptr, o.mask_prompt, where);
    }
    std::vector<int32_t> tokens = enc.text(prompt, true);
    const size_t n_prompt = tokens.size();
    const std::vector<int32_t> rest = enc.text(completion, false);
    tokens.insert(tokens.end(), rest.begin(), rest.end());
    append_eos(tokens, enc.eos);
    return with_targets_from(std::move(tokens), o.mask_prompt ? n_prompt : 1);
  }
  if (line.contains("text")) {
    std::vector<int32_t> tokens = enc.text(string_field(line, "text", where), true);
    append_eos(tokens, enc.eos);
    return with_targets_from(std::move(tokens), 1);
  }
  fail("{}: a line needs \"text\", \"prompt\" and \"completion\", \"messages\", or \"tokens\"", where);
}

// Calls fn(line, "path:N") for every line of a JSONL file that is not blank; a line that is not
// JSON, or that fn finds malformed, is an owl::Error naming the file and line.
template <typename Fn>
void for_each_json_line(const std::string& path, Fn&& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::string text;
  for (int64_t line_no = 1; std::getline(in, text); ++line_no) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    Json line;
    try {
      line = Json::parse(text);
    } catch (const Json::exception& e) {
      fail("{}: not valid JSON: {}", where, e.what());
    }
    try {
      fn(line, where);
    } catch (const Json::exception& ex) {
      fail("{}: {}", where, ex.what());
    } catch (const Error& ex) {  // one from the encoder (no tokenizer, ...) gets the line too
      if (std::string_view(ex.what()).starts_with(where + ":")) throw;
      fail("{}: {}", where, ex.what());
    }
  }
}

}  // namespace

Dataset load_jsonl(const std::string& path, const Encoder& encoder, const DatasetOptions& options) {
  Dataset d;
  d.path = path;
  for_each_json_line(path, [&](const Json& line, const std::string& where) {
    Example e = parse_line(line, encoder, options, where);
    if (e.tokens.size() < 2) fail("{}: fewer than two tokens: nothing to learn", where);
    if (options.max_seq_len > 0 && static_cast<int64_t>(e.tokens.size()) > options.max_seq_len) {
      e.tokens.resize(static_cast<size_t>(options.max_seq_len));
      e.targets.resize(static_cast<size_t>(options.max_seq_len));
      ++d.n_truncated;
    }
    d.examples.push_back(std::move(e));
  });
  if (d.examples.empty()) fail("{}: no examples", path);
  return d;
}

std::vector<std::string> load_texts(const std::string& path) {
  std::vector<std::string> texts;
  if (path.ends_with(".jsonl")) {
    for_each_json_line(path, [&](const Json& line, const std::string& where) {
      if (!line.is_object() || !line.contains("text")) fail("{}: no \"text\" field", where);
      texts.push_back(string_field(line, "text", where));
    });
    return texts;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) texts.push_back(line);
  }
  return texts;
}

DataSplit load_data(const std::string& data, const std::string& valid, const Encoder& encoder,
                    const DatasetOptions& options) {
  DataSplit split;
  std::error_code ec;
  if (fs::is_directory(data, ec)) {
    const fs::path train = fs::path(data) / "train.jsonl";
    if (!fs::exists(train, ec)) fail("{}: no train.jsonl in the data directory", data);
    split.train = load_jsonl(train.string(), encoder, options);
    const fs::path v = fs::path(data) / "valid.jsonl";
    if (valid.empty() && fs::exists(v, ec)) split.valid = load_jsonl(v.string(), encoder, options);
  } else {
    split.train = load_jsonl(data, encoder, options);
  }
  if (!valid.empty()) split.valid = load_jsonl(valid, encoder, options);
  return split;
}

}  // namespace owl::train
