// Operators of the template engine with Python semantics: attribute and item access as jinja2's
// sandboxed getattr/getitem do them, slicing, arithmetic, `in`, and iteration. Undefined values
// raise UndefinedError wherever jinja2's Undefined would.
#include <cmath>

#include "chat/builtins.h"
#include "chat/evaluator.h"
#include "chat/text.h"

namespace owl::chat {

namespace {
std::string object_name(const Value& v) {
  if (v.is_none()) return "None";
  return v.type_name() + " object";
}

[[noreturn]] void fail_undefined(const Value& v) {
  throw_undefined(v.undefined_hint().empty() ? "undefined value" : v.undefined_hint());
}

// Python's index normalisation for one position; false when out of range.
bool normalize_index(int64_t& i, size_t n) {
  if (i < 0) i += static_cast<int64_t>(n);
  return i >= 0 && i < static_cast<int64_t>(n);
}

void check_overflow(bool overflow) {
  if (overflow) throw_type("integer overflow (owl's template integers are 64-bit)");
}
}  // namespace

Value Evaluator::getattr(const Value& obj, const std::string& attr) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (obj.is_dict()) {
    if (!obj.dict().is_namespace) {
      Value m = find_method(obj, attr);
      if (!m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict().find(std::string_view(attr))) return *v;
  } else if (obj.is_string() || obj.is_list()) {
    if (obj.is_group_tuple() && (attr == "grouper" || attr == "list")) return obj.list()[attr == "grouper" ? 0 : 1];
    Value m = find_method(obj, attr);
    if (!m.is_undefined()) return m;
  }
  return Value::undefined(std::string("'") + object_name(obj) + "' has no attribute '" + attr + "'");
}

Value Evaluator::getitem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) fail_undefined(obj);
  // jinja2 tries obj[key], then an attribute of that name: a generator has neither.
  if (obj.is_generator()) return Value::undefined("'generator object' has no attribute '" + to_str(key) + "'");
  if (obj.is_dict()) {
    if (const Value* v = obj.dict().find(key)) return *v;
  } else if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (obj.is_list()) {
      if (normalize_index(i, obj.list().size())) return obj.list()[static_cast<size_t>(i)];
    } else {
      const std::vector<size_t> off = text::code_point_offsets(obj.str());
      step(off.size() / 64);
      if (normalize_index(i, off.size() - 1)) {
        const auto k = static_cast<size_t>(i);
        return Value(obj.str().substr(off[k], off[k + 1] - off[k]));
      }
    }
  }
  if (key.is_string()) {
    Value m = obj.is_dict() && obj.dict().is_namespace ? Value() : find_method(obj, key.str());
    if (!m.is_undefined()) return m;
    return Value::undefined(std::string("'") + object_name(obj) + "' has no attribute '" + key.str() + "'");
  }
  return Value::undefined(std::string("'") + object_name(obj) + "' has no attribute " + repr(key, 256));
}

Value Evaluator::slice(const Value& obj, const Value& start_v, const Value& stop_v, const Value& step_v) {
  if (obj.is_undefined()) fail_undefined(obj);
  if (!obj.is_list() && !obj.is_string()) return Value::undefined(std::string("'") + object_name(obj) + "' is not subscriptable");
  auto as_index = [](const Value& v, bool& present) -> int64_t {
    present = !(v.is_none() || v.is_undefined());
    if (!present) return 0;
    if (!v.is_int() && !v.is_bool()) throw_type("slice indices must be integers or None");
    return v.as_int();
  };
  std::vector<size_t> off;
  size_t n;
  if (obj.is_list()) {
    n = obj.list().size();
  } else {
    off = text::code_point_offsets(obj.str());
    n = off.size() - 1;
  }
  step(1 + (obj.is_list() ? n : n / 64));
  const auto len = static_cast<int64_t>(n);
  bool has_start, has_stop, has_step;
  int64_t start = as_index(start_v, has_start), stop = as_index(stop_v, has_stop), stride = as_index(step_v, has_step);
  if (!has_step) stride = 1;
  if (stride == 0) throw_type("slice step cannot be zero");
  auto clamp = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0) v += len;
    return v < lo ? lo : (v > hi ? hi : v);
  };
  if (stride > 0) {
    start = has_start ? clamp(start, 0, len) : 0;
    stop = has_stop ? clamp(stop, 0, len) : len;
  } else {
    start = has_start ? clamp(start, -1, len - 1) : len - 1;
    stop = has_stop ? clamp(stop, -1, len - 1) : -1;
  }
  std::vector<size_t> picks;
  for (int64_t i = start; stride > 0 ? i < stop : i > stop; i += stride) picks.push_back(static_cast<size_t>(i));
  if (obj.is_list()) {
    List items;
    items.reserve(picks.size());
    for (size_t i : picks) items.push_back(obj.list()[i]);
    return Value::make_list(std::move(items));
  }
  std::string out;
  if (stride == 1 && !picks.empty()) {
    out = obj.str().substr(off[picks.front()], off[picks.back() + 1] - off[picks.front()]);
  } else {
    for (size_t i : picks) out.append(obj.str(), off[i], off[i + 1] - off[i]);
  }
  return Value(std::move(out));
}

Value Evaluator::binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return make_string(to_str(a, max_bytes()) + to_str(b, max_bytes()));
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);
  const auto unsupported = [&]() -> Value {
    if (op == "+" && a.is_string()) throw_type(std::string("can only concatenate str (not \"") + b.type_name() + "\") to str");
    throw_type(std::string("unsupported operand type(s) for ") + op + ": '" + a.type_name() + "' and '" + b.type_name() + "'");
  };
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) {
      int64_t r = 0;
      check_overflow(__builtin_add_overflow(a.as_int(), b.as_int(), &r));
      return Value(r);
    }
    if (nums) return Value(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      if (a.str().size() + b.str().size() > max_bytes()) throw_budget("string too long");
      if (a.is_markup() || b.is_markup()) {
        // Markup + str and str + Markup (Markup.__radd__ runs first: it is a str subclass) escape the
        // plain side; ~ stays plain (str_join when autoescape is off).
        std::string joined = (a.is_markup() ? a.str() : text::html_escape(a.str())) +
                             (b.is_markup() ? b.str() : text::html_escape(b.str()));
        return Value::markup(make_string(std::move(joined)).str());  // make_string checks and charges the size
      }
      return make_string(a.str() + b.str());
    }
    if (a.is_list() && b.is_list()) {
      step(1 + a.list().size() + b.list().size());
      List items = a.list();
      items.insert(items.end(), b.list().begin(), b.list().end());
      return Value::make_list(std::move(items));
    }
    return unsupported();
  }
  if (op == "-") {
    if (ints) {
      int64_t r = 0;
      check_overflow(__builtin_sub_overflow(a.as_int(), b.as_int(), &r));
      return Value(r);
    }
    if (nums) return Value(a.as_double() - b.as_double());
    return unsupported();
  }
  if (op == "*") {
    if (ints) {
      int64_t r = 0;
      check_overflow(__builtin_mul_overflow(a.as_int(), b.as_int(), &r));
      return Value(r);
    }
    if (nums) return Value(a.as_double() * b.as_double());
    const Value* seq = (a.is_string() || a.is_list()) ? &a : &b;
    const Value* count = seq == &a ? &b : &a;
    if ((seq->is_string() || seq->is_list()) && (count->is_int() || count->is_bool())) {
      const int64_t k = std::max<int64_t>(0, count->as_int());
      if (seq->is_string()) {
        const size_t unit = seq->str().size();
        if (unit != 0 && static_cast<uint64_t>(k) > max_bytes() / unit) throw_budget("string too long");
        std::string out;
        out.reserve(unit * static_cast<size_t>(k));
        for (int64_t i = 0; i < k; ++i) out += seq->str();
        return make_string(std::move(out));
      }
      const size_t unit = seq->list().size();
      if (unit != 0 && static_cast<uint64_t>(k) > (1u << 24) / unit) throw_budget("list too long");
      step(1 + unit * static_cast<size_t>(k));
      List items;
      for (int64_t i = 0; i < k; ++i) items.insert(items.end(), seq->list().begin(), seq->list().end());
      return Value::make_list(std::move(items));
    }
    return unsupported();
  }
  if (op == "/") {
    if (!nums) return unsupported();
    if (b.as_double() == 0) throw_type("division by zero");
    return Value(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") {
    if (op == "%" && a.is_string()) return make_string(percent_format(*this, a.str(), b));
    if (!nums) return unsupported();
    if (ints) {
      const int64_t x = a.as_int(), y = b.as_int();
      if (y == 0) throw_type(op == "%" ? "integer modulo by zero" : "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) throw_type("integer overflow");
      int64_t q = x / y, r = x % y;
      if (r != 0 && ((r < 0) != (y < 0))) {
        --q;
        r += y;
      }
      return Value(op == "//" ? q : r);
    }
    const double x = a.as_double(), y = b.as_double();
    if (y == 0) throw_type("float modulo");
    if (op == "//") return Value(std::floor(x / y));
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return Value(r);
  }
  if (op == "**") {
    if (!nums) return unsupported();
    if (ints && b.as_int() >= 0) {
      int64_t r = 1, base = a.as_int();
      for (int64_t e = b.as_int(); e > 0; e >>= 1) {
        if (e & 1) check_overflow(__builtin_mul_overflow(r, base, &r));
        if (e > 1) check_overflow(__builtin_mul_overflow(base, base, &base));
      }
      return Value(r);
    }
    return Value(std::pow(a.as_double(), b.as_double()));
  }
  throw_type(std::string("unknown operator ") + op);
}

bool Evaluator::contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::string:
      if (!item.is_string()) throw_type(std::string("'in <string>' requires string as left operand, not ") + item.type_name());
      step(1 + container.str().size() / 64);
      return container.str().find(item.str()) != std::string::npos;
    case Value::Kind::list:
      step(1 + container.list().size());
      for (const Value& v : container.list())
        if (equals(v, item)) return true;
      return false;
    case Value::Kind::dict:
      if (item.is_list() || item.is_dict()) throw_type(std::string("unhashable type: '") + item.type_name() + "'");
      return container.dict().find(item) != nullptr;
    case Value::Kind::undefined: return false;
    default: throw_type(std::string("argument of type '") + container.type_name() + "' is not iterable");
  }
}

List Evaluator::iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::list: step(1 + v.list().size()); return v.list();
    case Value::Kind::dict: {
      List keys;
      keys.reserve(v.dict().size());
      for (const auto& [k, e] : v.dict().items) keys.push_back(k);
      step(1 + keys.size());
      return keys;
    }
    case Value::Kind::string: {
      List chars;
      const std::string& s = v.str();
      for (size_t pos = 0; pos < s.size();) {
        const size_t start = pos;
        text::next_code_point(s, pos);
        chars.emplace_back(s.substr(start, pos - start));
      }
      step(1 + chars.size());
      return chars;
    }
    case Value::Kind::undefined: return {};
    default: throw_type(std::string("'") + v.type_name() + "' object is not iterable");
  }
}

}  // namespace owl::chat
