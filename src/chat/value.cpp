// Values of the template engine (see value.h): construction from JSON, Python's str()/repr(),
// equality and ordering, and the float repr Python uses (shortest round-trip digits).
#include "chat/value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/text.h"

namespace owl::chat {

const Value* CallArgs::kwarg(std::string_view name) const {
  for (const auto& [k, v] : kwargs)
    if (k == name) return &v;
  return nullptr;
}

const Value* CallArgs::get(size_t i, std::string_view name) const {
  if (i < args.size()) return &args[i];
  return kwarg(name);
}

Value NativeFunction::call(Evaluator& ev, CallArgs& args) { return fn(ev, args); }

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.s_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::none;
  return v;
}

namespace {

// Lists and dicts whose last owner is going away, freed one at a time by the outermost destructor.
struct Graveyard {
  std::vector<std::shared_ptr<List>> lists;
  std::vector<std::shared_ptr<Dict>> dicts;
  bool draining = false;
};

}  // namespace

Value::~Value() {
  if (!l_ && !d_) return;
  thread_local Graveyard g;
  // Only the last owner hands the container over; a shared one just loses a reference.
  if (l_ && l_.use_count() == 1) g.lists.push_back(std::move(l_));
  if (d_ && d_.use_count() == 1) g.dicts.push_back(std::move(d_));
  if (g.draining) return;  // an outer destructor is already emptying the graveyard
  g.draining = true;
  while (!g.lists.empty() || !g.dicts.empty()) {
    if (!g.lists.empty()) {
      std::shared_ptr<List> l = std::move(g.lists.back());
      g.lists.pop_back();
      l.reset();  // its items' destructors put their own containers in the graveyard
    } else {
      std::shared_ptr<Dict> d = std::move(g.dicts.back());
      g.dicts.pop_back();
      d.reset();
    }
  }
  g.draining = false;
}

Value Value::markup(std::string s) {
  Value v(std::move(s));
  v.markup_ = true;
  return v;
}

Value Value::generator(List items) {
  Value v = make_list(std::move(items));
  v.markup_ = true;
  return v;
}

Value Value::group_tuple(Value grouper, List items) {
  Value v = make_list({std::move(grouper), make_list(std::move(items))});
  v.group_ = true;
  return v;
}

Value Value::make_list(List items) {
  Value v;
  v.kind_ = Kind::list;
  v.l_ = std::make_shared<List>(std::move(items));
  return v;
}

Value Value::make_dict() { return make_dict(std::make_shared<Dict>()); }

Value Value::make_dict(std::shared_ptr<Dict> d) {
  Value v;
  v.kind_ = Kind::dict;
  v.d_ = std::move(d);
  return v;
}

Value Value::function(std::shared_ptr<Function> f) {
  Value v;
  v.kind_ = Kind::function;
  v.fn_ = std::move(f);
  return v;
}

Value Value::native(std::string name, NativeFn f) {
  return function(std::make_shared<NativeFunction>(std::move(name), std::move(f)));
}

Value Value::from_json(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) throw_type("JSON input nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value(static_cast<double>(u));
      return Value(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      List items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(from_json(e, depth + 1));
      return make_list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = make_dict();
      for (const auto& [k, e] : j.items()) d.dict().set(Value(k), from_json(e, depth + 1));
      return d;
    }
    default: throw_type("unsupported JSON value (binary or discarded)");
  }
}

double Value::as_double() const {
  switch (kind_) {
    case Kind::integer: return static_cast<double>(i_);
    case Kind::boolean: return b_ ? 1.0 : 0.0;
    default: return f_;
  }
}

const std::string& Value::undefined_hint() const {
  static const std::string empty;
  return (kind_ == Kind::undefined && s_) ? *s_ : empty;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::undefined:
    case Kind::none: return false;
    case Kind::boolean: return b_;
    case Kind::integer: return i_ != 0;
    case Kind::floating: return f_ != 0.0;
    case Kind::string: return !s_->empty();
    case Kind::list: return !l_->empty();
    case Kind::dict: return d_->size() != 0;
    case Kind::function: return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::undefined: return "Undefined";
    case Kind::none: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::list: return markup_ ? "generator" : "list";
    case Kind::dict: return d_->is_namespace ? "Namespace" : "dict";
    case Kind::function: return "function";
  }
  return "object";
}

bool Value::same_object(const Value& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::list: return l_ == o.l_;
    case Kind::dict: return d_ == o.d_;
    case Kind::function: return fn_ == o.fn_;
    case Kind::string: return s_ == o.s_ || *s_ == *o.s_;  // CPython interns short strings; close enough
    default: return equals(*this, o);
  }
}

const Value* Dict::find(std::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &items[it->second].second;
}

const Value* Dict::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.str()));
  for (const auto& [k, v] : items)
    if (!k.is_string() && equals(k, key)) return &v;
  return nullptr;
}

void Dict::set(const Value& key, Value value) {
  if (key.is_string()) {
    auto it = index_.find(std::string_view(key.str()));
    if (it != index_.end()) {
      items[it->second].second = std::move(value);
      return;
    }
    index_.emplace(key.str(), items.size());
    items.emplace_back(key, std::move(value));
    return;
  }
  for (auto& [k, v] : items) {
    if (!k.is_string() && equals(k, key)) {
      v = std::move(value);
      return;
    }
  }
  items.emplace_back(key, std::move(value));
}

std::string format_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);  // [-]d[.ddd]e[+-]XX
  const bool neg = sci[0] == '-';
  if (neg) sci.erase(0, 1);
  const size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  const int exp = std::stoi(sci.substr(e + 1));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out += digits[0];
    if (digits.size() > 1) out += std::string(".") + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    return out + eb;
  }
  const int n = static_cast<int>(digits.size());
  if (exp < 0) {
    out += std::string("0.") + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else if (exp + 1 >= n) {
    out += digits + std::string(static_cast<size_t>(exp + 1 - n), '0') + ".0";
  } else {
    const size_t point = static_cast<size_t>(exp) + 1;
    out += digits.substr(0, point) + "." + digits.substr(point);
  }
  return out;
}

std::string repr_string(std::string_view s) {
  const bool has_single = s.find('\'') != std::string_view::npos;
  const bool has_double = s.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    const char32_t cp = text::next_code_point(s, pos);
    char buf[16];
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xAD) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (cp == 0x2028 || cp == 0x2029 || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(start, pos - start));
    }
  }
  out += quote;
  return out;
}

namespace {
void check_size(const std::string& out, size_t max_bytes) {
  if (out.size() > max_bytes) throw_budget(std::string("string too long (over ") + std::to_string(max_bytes) + " bytes)");
}
}  // namespace

void append_repr(std::string& out, const Value& v, size_t max_bytes, int depth) {
  if (depth > kMaxValueDepth) throw_type("maximum recursion depth exceeded while getting the repr of an object");
  switch (v.kind()) {
    case Value::Kind::string: out += repr_string(v.str()); break;
    case Value::Kind::list: {
      out += v.is_group_tuple() ? '(' : '[';
      bool first = true;
      for (const Value& e : v.list()) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, e, max_bytes, depth + 1);
        check_size(out, max_bytes);
      }
      out += v.is_group_tuple() ? ')' : ']';
      break;
    }
    case Value::Kind::dict: {
      const bool ns = v.dict().is_namespace;
      out += ns ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& [k, e] : v.dict().items) {
        if (!first) out += ", ";
        first = false;
        append_repr(out, k, max_bytes, depth + 1);
        out += ": ";
        append_repr(out, e, max_bytes, depth + 1);
        check_size(out, max_bytes);
      }
      out += ns ? "}>" : "}";
      break;
    }
    case Value::Kind::undefined: break;
    default: out += to_str(v, max_bytes); break;
  }
  check_size(out, max_bytes);
}

std::string to_str(const Value& v, size_t max_bytes) {
  switch (v.kind()) {
    case Value::Kind::undefined: return "";
    case Value::Kind::none: return "None";
    case Value::Kind::boolean: return v.as_bool() ? "True" : "False";
    case Value::Kind::integer: return std::to_string(v.as_int());
    case Value::Kind::floating: return format_float(v.as_double());
    case Value::Kind::string: return v.str();
    case Value::Kind::function: return std::string("<function ") + v.function().name + ">";
    default: {
      std::string out;
      append_repr(out, v, max_bytes, 0);
      return out;
    }
  }
}

std::string repr(const Value& v, size_t max_bytes) {
  std::string out;
  append_repr(out, v, max_bytes, 0);
  return out;
}

bool equals(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) throw_type("maximum recursion depth exceeded in comparison");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::undefined:
    case Value::Kind::none: return true;
    case Value::Kind::string: return a.str() == b.str();
    case Value::Kind::list: {
      if (a.list_ptr() == b.list_ptr()) return true;
      if (a.list().size() != b.list().size()) return false;
      for (size_t i = 0; i < a.list().size(); ++i)
        if (!equals(a.list()[i], b.list()[i], depth + 1)) return false;
      return true;
    }
    case Value::Kind::dict: {
      if (a.dict().size() != b.dict().size()) return false;
      for (const auto& [k, v] : a.dict().items) {
        const Value* o = b.dict().find(k);
        if (o == nullptr || !equals(v, *o, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::function: return a.same_object(b);
    default: return false;
  }
}

int compare(const Value& a, const Value& b, int depth) {
  if (depth > kMaxValueDepth) throw_type("maximum recursion depth exceeded in comparison");
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.as_double(), y = b.as_double();
      return x < y ? -1 : (x > y ? 1 : 0);
    }
    return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    const int c = a.str().compare(b.str());  // UTF-8 byte order is code point order
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    const List& x = a.list();
    const List& y = b.list();
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (equals(x[i], y[i], depth + 1)) continue;
      return compare(x[i], y[i], depth + 1);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  throw_type(std::string("'<' not supported between instances of '") + a.type_name() + "' and '" + b.type_name() + "'");
}

}  // namespace owl::chat
