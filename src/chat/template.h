// owl::chat::Template: a Jinja chat template parsed once and rendered many times, configured as
// Hugging Face transformers configures jinja2 for apply_chat_template (sandboxed, trim_blocks,
// lstrip_blocks, loopcontrols, {% generation %}, tojson = json.dumps, raise_exception, strftime_now).
#pragma once

#include <nlohmann/json.hpp>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "chat/error.h"
#include "chat/evaluator.h"

namespace owl::chat {

struct RenderOptions {
  RenderLimits limits;
  std::optional<std::tm> now;  // the clock strftime_now() reads; the local time when absent
};

class Template {
 public:
  // Parses source as stored (GGUF tokenizer.chat_template, a .jinja file). Throws
  // TemplateError(syntax) naming name, line and column.
  explicit Template(std::string_view source, std::string name = "chat template");

  // Renders with each key of context (a JSON object) as a top-level variable; JSON null is None.
  // Throws TemplateError with line and column when the template fails, as jinja2 would, or when
  // it exceeds options.limits.
  std::string render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;

  const std::string& name() const;
  const std::string& source() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// "2026-01-15T00:00:00", "2026-01-15 00:00:00" or "2026-01-15" → a broken-down time (the weekday
// and day of the year filled in). Throws owl::Error for anything else.
std::tm parse_time(std::string_view text);

}  // namespace owl::chat
