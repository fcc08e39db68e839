// Template parsing and rendering entry points (see template.h): lex → parse → check filter and
// test names as jinja2's compiler does → evaluate with transformers' globals.
#include "chat/template.h"

#include <cstdio>

#include "chat/ast.h"
#include "chat/lexer.h"
#include "chat/parser.h"

namespace owl::chat {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::syntax: return "syntax error";
    case ErrorKind::undefined: return "undefined";
    case ErrorKind::type: return "type error";
    case ErrorKind::raised: return "raised";
    case ErrorKind::security: return "security error";
    case ErrorKind::runtime: return "runtime error";
    case ErrorKind::budget: return "limit exceeded";
  }
  return "error";
}

TemplateError::TemplateError(ErrorKind kind, const std::string& template_name, int line, int column,
                             const std::string& message)
    : owl::Error(template_name + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                 (kind == ErrorKind::raised ? std::string() : std::string(error_kind_name(kind)) + ": ") + message),
      kind_(kind),
      line_(line),
      column_(column),
      message_(message) {}

struct Template::Impl {
  std::string name;
  std::string source;
  Body body;
};

Template::Template(std::string_view source, std::string name) {
  auto impl = std::make_shared<Impl>();
  impl->name = std::move(name);
  impl->source = std::string(source);
  const std::vector<Token> tokens = tokenize(impl->source, LexOptions{}, impl->name);
  impl->body = parse_template(tokens, impl->name);
  check_names(
      impl->body, [](const std::string& n) { return find_filter(n) != nullptr; },
      [](const std::string& n) { return find_test(n) != nullptr; }, impl->name);
  impl_ = std::move(impl);
}

const std::string& Template::name() const { return impl_->name; }
const std::string& Template::source() const { return impl_->source; }

std::string Template::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  if (!context.is_object()) throw owl::Error(impl_->name + ": the template context must be a JSON object");
  std::tm now{};
  if (options.now) {
    now = *options.now;
  } else {
    const std::time_t t = std::time(nullptr);
    localtime_r(&t, &now);
  }
  Value globals = Value::make_dict();
  add_globals(globals.dict());
  try {
    for (const auto& [k, v] : context.items()) globals.dict().set(Value(k), Value::from_json(v));
    Evaluator ev(impl_->name, options.limits, now);
    return ev.render(impl_->body, globals);
  } catch (const ValueError& e) {
    throw TemplateError(e.kind, impl_->name, 0, 0, e.message);
  }
}

std::tm parse_time(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char sep = 'T';
  const std::string t(text);
  int n = std::sscanf(t.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s);
  const bool ok = (n == 3 && t.size() == 10) || (n == 7 && (sep == 'T' || sep == ' ') && t.size() == 19);
  if (!ok || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || h < 0 || mi < 0 || s < 0) {
    throw owl::Error(std::string("bad time '") + t + "': expected YYYY-MM-DDTHH:MM:SS");
  }
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  // Weekday and day of the year from the civil date (no time zone involved).
  static const int cumulative[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  tm.tm_yday = cumulative[mo - 1] + d - 1 + (leap && mo > 2 ? 1 : 0);
  const int yy = mo < 3 ? y - 1 : y;
  static const int offsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  tm.tm_wday = (yy + yy / 4 - yy / 100 + yy / 400 + offsets[mo - 1] + d) % 7;
  return tm;
}

}  // namespace owl::chat
