// Methods of str, dict and list that templates call (Python's, as jinja2's immutable sandbox
// allows them: mutating list/dict methods raise SecurityError), and Python's str.format and
// printf-style "%" formatting for the format specs templates use.
#include <cmath>
#include <cstdio>

#include "chat/builtins.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

[[noreturn]] void unsafe(const std::string& name, const Value& obj) {
  throw ValueError(ErrorKind::security,
                   std::string("access to attribute '") + name + "' of '" + obj.type_name() + "' object is unsafe.");
}

std::string arg_str(const CallArgs& a, size_t i, std::string_view name, const char* method) {
  const Value* v = a.get(i, name);
  if (v == nullptr) throw_type(std::string(method) + "() missing required argument '" + std::string(name) + "'");
  if (!v->is_string()) throw_type(std::string(method) + "() argument must be str, not " + v->type_name());
  return v->str();
}

bool affix_match(const Value& obj, const CallArgs& a, bool prefix) {
  const char* m = prefix ? "startswith" : "endswith";
  const Value* arg = a.get(0, "prefix");
  if (arg == nullptr) throw_type(std::string(m) + "() takes at least 1 argument (0 given)");
  std::vector<std::string> options;
  if (arg->is_list()) {
    for (const Value& v : arg->list()) {
      if (!v.is_string()) throw_type(std::string("tuple for ") + m + " must only contain str");
      options.push_back(v.str());
    }
  } else if (arg->is_string()) {
    options.push_back(arg->str());
  } else {
    throw_type(std::string(m) + " first arg must be str or a tuple of str, not " + arg->type_name());
  }
  const std::string& s = obj.str();
  for (const auto& o : options) {
    if (prefix ? s.compare(0, o.size(), o) == 0 && s.size() >= o.size()
               : s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0) {
      return true;
    }
  }
  return false;
}

std::string replace_all(Evaluator& ev, const std::string& s, const std::string& old, const std::string& rep,
                        int64_t count) {
  std::string out;
  int64_t done = 0;
  if (old.empty()) {
    const std::vector<size_t> off = text::code_point_offsets(s);
    for (size_t i = 0; i + 1 < off.size(); ++i) {
      if (count < 0 || done < count) {
        out += rep;
        ++done;
      }
      out.append(s, off[i], off[i + 1] - off[i]);
      if (out.size() > ev.max_bytes()) throw_budget("string too long");
    }
    if (count < 0 || done < count) out += rep;
    return out;
  }
  size_t pos = 0;
  while (count < 0 || done < count) {
    const size_t hit = s.find(old, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += rep;
    pos = hit + old.size();
    ++done;
    if (out.size() > ev.max_bytes()) throw_budget("string too long");
  }
  out.append(s, pos, std::string::npos);
  return out;
}

Value string_method(Evaluator& ev, const Value& obj, const std::string& name, CallArgs& a) {
  const std::string& s = obj.str();
  ev.charge_bytes(s.size());
  if (name == "upper") return Value(text::upper(s));
  if (name == "lower") return Value(text::lower(s));
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const Value* chars = a.get(0, "chars");
    const bool ws = chars == nullptr || chars->is_none();
    if (!ws && !chars->is_string()) throw_type(name + " arg must be None or str");
    return Value(text::strip(s, ws ? "" : chars->str(), name != "rstrip", name != "lstrip", ws));
  }
  if (name == "split" || name == "rsplit") {
    const Value* sep = a.get(0, "sep");
    const Value* maxsplit = a.get(1, "maxsplit");
    if (name == "rsplit" && maxsplit != nullptr && to_int_or(*maxsplit, -1) >= 0) {
      // rsplit with a limit: split fully, then join the leading parts back.
      List parts = split_string(ev, s, sep ? *sep : Value::none(), -1);
      const auto keep = static_cast<size_t>(to_int_or(*maxsplit, -1));
      if (parts.size() <= keep + 1) return Value::make_list(std::move(parts));
      const std::string joiner = sep && sep->is_string() ? sep->str() : " ";
      const size_t head = parts.size() - keep;
      std::string first;
      for (size_t i = 0; i < head; ++i) first += (i ? joiner : "") + parts[i].str();
      List out{Value(first)};
      out.insert(out.end(), parts.begin() + static_cast<std::ptrdiff_t>(head), parts.end());
      return Value::make_list(std::move(out));
    }
    return Value::make_list(split_string(ev, s, sep ? *sep : Value::none(), maxsplit ? to_int_or(*maxsplit, -1) : -1));
  }
  if (name == "splitlines") {
    List lines;
    for (std::string_view line : text::split_lines(s)) lines.emplace_back(std::string(line));
    return Value::make_list(std::move(lines));
  }
  if (name == "startswith") return Value(affix_match(obj, a, true));
  if (name == "endswith") return Value(affix_match(obj, a, false));
  if (name == "replace") {
    const Value* count = a.get(2, "count");
    return ev.make_string(replace_all(ev, s, arg_str(a, 0, "old", "replace"), arg_str(a, 1, "new", "replace"),
                                      count ? to_int_or(*count, -1) : -1));
  }
  if (name == "format") return ev.make_string(python_format(ev, s, a));
  if (name == "join") {
    const Value* it = a.get(0, "iterable");
    if (it == nullptr) throw_type("join() takes exactly one argument (0 given)");
    std::string out;
    bool first = true;
    for (const Value& v : ev.iterate(*it)) {
      if (!v.is_string()) throw_type(std::string("sequence item: expected str instance, ") + v.type_name() + " found");
      if (!first) out += s;
      first = false;
      out += v.str();
      if (out.size() > ev.max_bytes()) throw_budget("string too long");
    }
    return ev.make_string(std::move(out));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const std::string sub = arg_str(a, 0, "sub", name.c_str());
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(text::count_code_points(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
      return Value(n);
    }
    const size_t p = (name[0] == 'r') ? s.rfind(sub) : s.find(sub);
    if (p == std::string::npos) {
      if (name == "index" || name == "rindex") throw_type("substring not found");
      return Value(static_cast<int64_t>(-1));
    }
    return Value(static_cast<int64_t>(text::count_code_points(std::string_view(s).substr(0, p))));
  }
  if (name == "title" || name == "capitalize") {
    std::string out;
    bool start = true;
    for (size_t pos = 0; pos < s.size();) {
      const char32_t cp = text::next_code_point(s, pos);
      const bool letter = text::to_lower(cp) != text::to_upper(cp);
      text::append_utf8(out, start && letter ? text::to_upper(cp) : text::to_lower(cp));
      if (name == "title") {
        start = !letter;
      } else if (letter || !start) {
        start = false;
      }
      if (name == "capitalize") start = false;
    }
    return Value(std::move(out));
  }
  if (name.rfind("is", 0) == 0) {
    if (s.empty()) return Value(false);
    bool all = true, cased = false;
    for (size_t pos = 0; pos < s.size();) {
      const char32_t c = text::next_code_point(s, pos);
      const bool digit = c >= '0' && c <= '9';
      const bool alpha = text::to_lower(c) != text::to_upper(c) || (c > 0x7F && !text::is_space(c));
      if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") all &= digit;
      else if (name == "isalpha") all &= alpha;
      else if (name == "isalnum") all &= alpha || digit;
      else if (name == "isspace") all &= text::is_space(c);
      else if (name == "isupper") { all &= text::to_upper(c) == c; cased |= text::to_lower(c) != c; }
      else if (name == "islower") { all &= text::to_lower(c) == c; cased |= text::to_upper(c) != c; }
    }
    if (name == "isupper" || name == "islower") return Value(all && cased);
    return Value(all);
  }
  throw_type(std::string("'str' object has no attribute '") + name + "'");
}

}  // namespace

Value find_method(const Value& obj, const std::string& name) {
  static const char* const str_methods[] = {
      "upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines", "startswith", "endswith",
      "replace", "format", "join", "find", "rfind", "index", "rindex", "count", "title", "capitalize", "isdigit",
      "isnumeric", "isdecimal", "isalpha", "isalnum", "isspace", "isupper", "islower"};
  static const char* const dict_mutators[] = {"pop", "popitem", "update", "setdefault", "clear"};
  static const char* const list_mutators[] = {"append", "pop", "extend", "insert", "remove", "sort", "reverse", "clear"};
  auto in = [&](const auto& table) {
    for (const char* m : table)
      if (name == m) return true;
    return false;
  };
  if (obj.is_string() && in(str_methods)) {
    return Value::native(name, [obj, name](Evaluator& ev, CallArgs& a) { return string_method(ev, obj, name, a); });
  }
  if (obj.is_dict()) {
    if (in(dict_mutators)) {
      return Value::native(name, [obj, name](Evaluator&, CallArgs&) -> Value { unsafe(name, obj); });
    }
    if (name == "get") {
      return Value::native(name, [obj](Evaluator&, CallArgs& a) -> Value {
        const Value* key = a.get(0, "key");
        if (key == nullptr) throw_type("get expected at least 1 argument, got 0");
        if (const Value* v = obj.dict().find(*key)) return *v;
        const Value* def = a.get(1, "default");
        return def ? *def : Value::none();
      });
    }
    if (name == "items" || name == "keys" || name == "values" || name == "copy") {
      return Value::native(name, [obj, name](Evaluator& ev, CallArgs&) -> Value {
        ev.step(1 + obj.dict().size());
        if (name == "copy") {
          auto d = std::make_shared<Dict>(obj.dict());
          d->is_namespace = false;
          return Value::make_dict(std::move(d));
        }
        List out;
        for (const auto& [k, v] : obj.dict().items) {
          if (name == "items") out.push_back(Value::make_list({k, v}));
          else out.push_back(name == "keys" ? k : v);
        }
        return Value::make_list(std::move(out));
      });
    }
  }
  if (obj.is_list()) {
    if (in(list_mutators)) {
      return Value::native(name, [obj, name](Evaluator&, CallArgs&) -> Value { unsafe(name, obj); });
    }
    if (name == "index" || name == "count") {
      return Value::native(name, [obj, name](Evaluator& ev, CallArgs& a) -> Value {
        if (a.args.empty()) throw_type(name + "() takes at least 1 argument (0 given)");
        ev.step(1 + obj.list().size());
        int64_t n = 0;
        for (size_t i = 0; i < obj.list().size(); ++i) {
          if (!equals(obj.list()[i], a.args[0])) continue;
          if (name == "index") return Value(static_cast<int64_t>(i));
          ++n;
        }
        if (name == "index") throw_type(repr(a.args[0], 200) + " is not in list");
        return Value(n);
      });
    }
  }
  return Value();
}

int64_t to_int_or(const Value& v, int64_t fallback, bool* ok) {
  if (ok) *ok = true;
  if (v.is_int() || v.is_bool()) return v.as_int();
  if (v.is_float() && std::isfinite(v.as_double()) && std::fabs(v.as_double()) < 9.2e18) {
    return static_cast<int64_t>(v.as_double());
  }
  if (v.is_string()) {
    const std::string t = text::strip(v.str(), "", true, true, true);
    size_t i = 0;
    bool neg = false;
    if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
    if (i < t.size()) {
      int64_t r = 0;
      bool good = true;
      for (; i < t.size(); ++i) {
        if (t[i] == '_') continue;
        if (t[i] < '0' || t[i] > '9' || __builtin_mul_overflow(r, 10, &r) || __builtin_add_overflow(r, t[i] - '0', &r)) {
          good = false;
          break;
        }
      }
      if (good) return neg ? -r : r;
    }
  }
  if (ok) *ok = false;
  return fallback;
}

List split_string(Evaluator& ev, const std::string& s, const Value& sep, int64_t maxsplit) {
  List parts;
  ev.step(1 + s.size() / 64);
  if (sep.is_none() || sep.is_undefined()) {
    size_t pos = 0;
    while (pos < s.size()) {
      size_t p = pos;
      char32_t cp = 0;
      while (p < s.size()) {  // skip whitespace
        size_t q = p;
        cp = text::next_code_point(s, q);
        if (!text::is_space(cp)) break;
        p = q;
      }
      if (p >= s.size()) break;
      if (maxsplit >= 0 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        std::string rest = text::strip(s.substr(p), "", false, true, true);
        parts.emplace_back(std::move(rest));
        return parts;
      }
      size_t q = p;
      while (q < s.size()) {
        size_t r = q;
        if (text::is_space(text::next_code_point(s, r))) break;
        q = r;
      }
      parts.emplace_back(s.substr(p, q - p));
      pos = q;
    }
    return parts;
  }
  if (!sep.is_string()) throw_type(std::string("must be str or None, not ") + sep.type_name());
  const std::string& d = sep.str();
  if (d.empty()) throw_type("empty separator");
  size_t pos = 0;
  while (maxsplit < 0 || static_cast<int64_t>(parts.size()) < maxsplit) {
    const size_t hit = s.find(d, pos);
    if (hit == std::string::npos) break;
    parts.emplace_back(s.substr(pos, hit - pos));
    pos = hit + d.size();
  }
  parts.emplace_back(s.substr(pos));
  return parts;
}

}  // namespace owl::chat
