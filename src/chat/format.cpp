// Python string formatting for templates: str.format() with positional, numbered and named fields
// and the common format-spec mini-language ([[fill]align][sign][0][width][.precision][type]), and
// printf-style "%" formatting (%s %r %d %i %f %e %g %x %o %c %%, with flags, width and precision).
#include <cmath>
#include <cstdio>

#include "chat/builtins.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

struct Spec {
  char32_t fill = ' ';
  char align = '\0';
  char sign = '-';
  bool zero = false;
  size_t width = 0;
  int precision = -1;
  char type = '\0';
};

Spec parse_spec(const std::string& spec, size_t max_width) {
  Spec s;
  std::vector<size_t> off = text::code_point_offsets(spec);
  size_t i = 0;  // code point index
  auto cp_at = [&](size_t k) {
    size_t p = off[k];
    return text::next_code_point(spec, p);
  };
  const size_t n = off.size() - 1;
  auto is_align = [](char32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (n >= 2 && is_align(cp_at(1))) {
    s.fill = cp_at(0);
    s.align = static_cast<char>(cp_at(1));
    i = 2;
  } else if (n >= 1 && is_align(cp_at(0))) {
    s.align = static_cast<char>(cp_at(0));
    i = 1;
  }
  std::string rest = spec.substr(off[i]);
  size_t p = 0;
  if (p < rest.size() && (rest[p] == '+' || rest[p] == '-' || rest[p] == ' ')) s.sign = rest[p++];
  if (p < rest.size() && rest[p] == '#') ++p;
  if (p < rest.size() && rest[p] == '0') {
    s.zero = true;
    ++p;
  }
  while (p < rest.size() && std::isdigit(static_cast<unsigned char>(rest[p]))) {
    s.width = s.width * 10 + static_cast<size_t>(rest[p++] - '0');
    if (s.width > max_width) throw_budget("format width too large");
  }
  if (p < rest.size() && (rest[p] == ',' || rest[p] == '_')) ++p;
  if (p < rest.size() && rest[p] == '.') {
    ++p;
    s.precision = 0;
    while (p < rest.size() && std::isdigit(static_cast<unsigned char>(rest[p]))) {
      s.precision = s.precision * 10 + (rest[p++] - '0');
      if (s.precision > 1000) throw_type("precision too big");
    }
  }
  if (p < rest.size()) s.type = rest[p++];
  if (p != rest.size()) throw_type(std::string("Invalid format specifier '") + spec + "'");
  return s;
}

std::string pad(const std::string& body, const Spec& s, char default_align) {
  const size_t len = text::count_code_points(body);
  if (len >= s.width) return body;
  const size_t fill = s.width - len;
  std::string f;
  text::append_utf8(f, s.fill);
  auto repeat = [&](size_t k) {
    std::string r;
    for (size_t i = 0; i < k; ++i) r += f;
    return r;
  };
  char align = s.align ? s.align : default_align;
  if (align == '=') {  // padding after the sign
    const size_t sign_len = (!body.empty() && (body[0] == '-' || body[0] == '+' || body[0] == ' ')) ? 1 : 0;
    return body.substr(0, sign_len) + repeat(fill) + body.substr(sign_len);
  }
  if (align == '<') return body + repeat(fill);
  if (align == '^') return repeat(fill / 2) + body + repeat(fill - fill / 2);
  return repeat(fill) + body;
}

std::string format_number(const Value& v, char type, int precision, char sign) {
  char buf[1200];
  std::string body;
  if ((type == '\0' || type == 'd' || type == 'n') && (v.is_int() || v.is_bool()) && precision < 0) {
    body = std::to_string(v.as_int());
  } else if (type == 'x' || type == 'X' || type == 'o' || type == 'b') {
    if (!v.is_int() && !v.is_bool()) throw_type(std::string("Unknown format code '") + std::string(1, type) + "' for object of type 'float'");
    int64_t x = v.as_int();
    const bool neg = x < 0;
    uint64_t u = neg ? 0 - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
    if (type == 'b') {
      do {
        body.insert(body.begin(), static_cast<char>('0' + (u & 1)));
        u >>= 1;
      } while (u);
    } else {
      std::snprintf(buf, sizeof buf, type == 'x' ? "%llx" : type == 'X' ? "%llX" : "%llo", static_cast<unsigned long long>(u));
      body = buf;
    }
    if (neg) body = std::string("-") + body;
  } else if (type == 'd') {
    throw_type("Unknown format code 'd' for object of type 'float'");
  } else {
    const double d = v.as_double();
    if (type == '\0' && precision < 0) {
      body = v.is_float() ? format_float(d) : std::to_string(v.as_int());
    } else {
      const char t = type == '\0' ? 'g' : type;
      const int prec = precision < 0 ? 6 : precision;
      if (t == '%') {
        std::snprintf(buf, sizeof buf, "%.*f%%", prec, d * 100);
      } else if (t == 'f' || t == 'F' || t == 'e' || t == 'E' || t == 'g' || t == 'G') {
        const char f[] = {'%', '.', '*', t, '\0'};
        std::snprintf(buf, sizeof buf, f, prec, d);
      } else {
        throw_type(std::string("Unknown format code '") + std::string(1, t) + "'");
      }
      body = buf;
    }
  }
  if (sign != '-' && !body.empty() && body[0] != '-') body = std::string(1, sign) + body;
  return body;
}

std::string apply_spec(const Value& v, const std::string& spec_text, size_t max_width) {
  if (spec_text.empty()) return to_str(v, max_width);
  const Spec s = parse_spec(spec_text, max_width);
  if (v.is_string() || v.is_undefined() || v.is_none() || v.is_list() || v.is_dict()) {
    if (s.type != '\0' && s.type != 's') {
      throw_type(std::string("Unknown format code '") + std::string(1, s.type) + "' for object of type '" + v.type_name() + "'");
    }
    std::string body = to_str(v, max_width);
    if (s.precision >= 0) {
      const std::vector<size_t> off = text::code_point_offsets(body);
      if (static_cast<size_t>(s.precision) < off.size() - 1) body.resize(off[static_cast<size_t>(s.precision)]);
    }
    return pad(body, s, '<');
  }
  Spec t = s;
  if (t.zero && t.align == '\0') {
    t.fill = '0';
    t.align = '=';
  }
  return pad(format_number(v, s.type, s.precision, s.sign), t, '>');
}

// Field "name", "0", "name.attr", "name[key]" → the value.
Value resolve_field(Evaluator& ev, const std::string& field, const CallArgs& args, size_t& auto_index) {
  size_t end = field.find_first_of(".[");
  std::string head = field.substr(0, end);
  Value v;
  if (head.empty()) {
    if (auto_index >= args.args.size()) throw_type(std::string("Replacement index ") + std::to_string(auto_index) + " out of range for positional args tuple");
    v = args.args[auto_index++];
  } else if (std::isdigit(static_cast<unsigned char>(head[0]))) {
    const size_t i = static_cast<size_t>(std::atoll(head.c_str()));
    if (i >= args.args.size()) throw_type(std::string("Replacement index ") + head + " out of range for positional args tuple");
    v = args.args[i];
  } else {
    const Value* kw = args.kwarg(head);
    if (kw == nullptr) throw_type(std::string("KeyError: '") + head + "'");
    v = *kw;
  }
  while (end != std::string::npos && end < field.size()) {
    if (field[end] == '.') {
      const size_t next = field.find_first_of(".[", end + 1);
      v = ev.getattr(v, field.substr(end + 1, next == std::string::npos ? std::string::npos : next - end - 1));
      end = next;
    } else {
      const size_t close = field.find(']', end);
      if (close == std::string::npos) throw_type("Missing ']' in format string");
      const std::string key = field.substr(end + 1, close - end - 1);
      const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos;
      v = ev.getitem(v, numeric ? Value(static_cast<int64_t>(std::atoll(key.c_str()))) : Value(key));
      end = close + 1;
    }
  }
  return v;
}

}  // namespace

std::string python_format(Evaluator& ev, const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') {
        out += '}';
        ++i;
        continue;
      }
      throw_type("Single '}' encountered in format string");
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) throw_type("Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    std::string spec;
    char conv = '\0';
    if (const size_t colon = field.find(':'); colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field.resize(colon);
    }
    if (const size_t bang = field.find('!'); bang != std::string::npos) {
      conv = bang + 1 < field.size() ? field[bang + 1] : '\0';
      field.resize(bang);
    }
    Value v = resolve_field(ev, field, args, auto_index);
    if (conv == 'r') v = Value(repr(v, ev.max_bytes()));
    if (conv == 's') v = Value(to_str(v, ev.max_bytes()));
    out += apply_spec(v, spec, ev.max_bytes());
    if (out.size() > ev.max_bytes()) throw_budget("string too long");
  }
  return out;
}

std::string percent_format(Evaluator& ev, const std::string& fmt, const Value& args) {
  std::string out;
  size_t next_arg = 0;
  const bool tuple = args.is_list();
  bool used_single = false;
  auto take = [&]() -> Value {
    if (tuple) {
      if (next_arg >= args.list().size()) throw_type("not enough arguments for format string");
      return args.list()[next_arg++];
    }
    if (used_single) throw_type("not enough arguments for format string");
    used_single = true;
    return args;
  };
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) throw_type("incomplete format");
    Value v;
    bool have = false;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos || !args.is_dict()) throw_type("format requires a mapping");
      const Value* found = args.dict().find(std::string_view(fmt).substr(i + 1, close - i - 1));
      if (found == nullptr) throw_type(std::string("KeyError: '") + fmt.substr(i + 1, close - i - 1) + "'");
      v = *found;
      have = true;
      i = close + 1;
    }
    Spec s;
    for (; i < fmt.size() && std::strchr("-+ #0", fmt[i]) != nullptr; ++i) {
      if (fmt[i] == '-') s.align = '<';
      else if (fmt[i] == '0') s.zero = true;
      else if (fmt[i] == '+' || fmt[i] == ' ') s.sign = fmt[i];
    }
    for (; i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])); ++i) {
      s.width = s.width * 10 + static_cast<size_t>(fmt[i] - '0');
      if (s.width > ev.max_bytes()) throw_budget("format width too large");
    }
    if (i < fmt.size() && fmt[i] == '.') {
      s.precision = 0;
      for (++i; i < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[i])); ++i) {
        s.precision = std::min(1000, s.precision * 10 + (fmt[i] - '0'));
      }
    }
    if (i >= fmt.size()) throw_type("incomplete format");
    const char type = fmt[i];
    if (type == '%') {
      out += '%';
      continue;
    }
    if (!have) v = take();
    std::string body;
    if (type == 's' || type == 'r' || type == 'a') {
      body = type == 's' ? to_str(v, ev.max_bytes()) : repr(v, ev.max_bytes());
      if (s.precision >= 0) {
        const std::vector<size_t> off = text::code_point_offsets(body);
        if (static_cast<size_t>(s.precision) < off.size() - 1) body.resize(off[static_cast<size_t>(s.precision)]);
      }
      out += pad(body, s, '>');
    } else if (type == 'c') {
      std::string ch;
      if (v.is_string()) ch = v.str();
      else text::append_utf8(ch, static_cast<char32_t>(to_int_or(v, 0)));
      out += pad(ch, s, '>');
    } else {
      if (!v.is_number()) throw_type(fmt::format("%{} format: a real number is required, not {}", type, v.type_name()));
      Value num = v;
      if (type == 'd' || type == 'i' || type == 'u') num = Value(v.is_float() ? static_cast<int64_t>(v.as_double()) : v.as_int());
      const char t = (type == 'i' || type == 'u') ? 'd' : type;
      Spec padded = s;
      if (s.zero && s.align == '\0') {
        padded.fill = '0';
        padded.align = '=';
      }
      out += pad(format_number(num, t == 'd' ? '\0' : t, t == 'd' ? -1 : (s.precision < 0 ? 6 : s.precision), s.sign),
                 padded, '>');
    }
    if (out.size() > ev.max_bytes()) throw_budget("string too long");
  }
  if (tuple && next_arg < args.list().size()) throw_type("not all arguments converted during string formatting");
  if (!tuple && !args.is_dict() && !used_single) throw_type("not all arguments converted during string formatting");
  return out;
}

}  // namespace owl::chat
