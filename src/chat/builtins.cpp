// jinja2's builtin tests (jinja2.tests) and global functions (range, dict, namespace, joiner,
// cycler from jinja2.defaults), plus the two globals transformers adds: raise_exception and
// strftime_now. range() is capped as jinja2's sandbox caps it (MAX_RANGE = 100000).
#include <unordered_map>

#include "chat/builtins.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

const Value& arg0(const CallArgs& a, const char* test) {
  if (a.args.empty()) throw_type(std::string("test '") + test + "' needs an argument");
  return a.args[0];
}

using Tests = std::unordered_map<std::string, TestFn>;

Tests make_tests() {
  Tests t;
  t["defined"] = [](Evaluator&, const Value& v, CallArgs&) { return !v.is_undefined(); };
  t["undefined"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_undefined(); };
  t["none"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_none(); };
  t["boolean"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_bool(); };
  t["true"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); };
  t["false"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); };
  t["integer"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_int(); };
  t["float"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_float(); };
  t["number"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_number(); };
  t["string"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_string(); };
  t["mapping"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_dict() && !v.dict().is_namespace; };
  t["iterable"] = [](Evaluator&, const Value& v, CallArgs&) {
    return v.is_string() || v.is_list() || (v.is_dict() && !v.dict().is_namespace) || v.is_undefined();
  };
  t["sequence"] = t["iterable"];
  t["callable"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_function(); };
  t["escaped"] = [](Evaluator&, const Value&, CallArgs&) { return false; };
  t["lower"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_string() && text::lower(v.str()) == v.str(); };
  t["upper"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_string() && text::upper(v.str()) == v.str(); };
  t["eq"] = [](Evaluator&, const Value& v, CallArgs& a) { return equals(v, arg0(a, "eq")); };
  t["equalto"] = t["eq"];
  t["=="] = t["eq"];
  t["ne"] = [](Evaluator&, const Value& v, CallArgs& a) { return !equals(v, arg0(a, "ne")); };
  t["!="] = t["ne"];
  auto ordered = [](const char* name, int want_sign, bool or_equal) {
    return [=](Evaluator&, const Value& v, CallArgs& a) {
      const Value& o = arg0(a, name);
      if (v.is_undefined()) throw_undefined(v.undefined_hint());
      if (o.is_undefined()) throw_undefined(o.undefined_hint());
      const int c = compare(v, o);
      return c == want_sign || (or_equal && c == 0);
    };
  };
  t["lt"] = ordered("lt", -1, false);
  t["lessthan"] = t["lt"];
  t["<"] = t["lt"];
  t["le"] = ordered("le", -1, true);
  t["<="] = t["le"];
  t["gt"] = ordered("gt", 1, false);
  t["greaterthan"] = t["gt"];
  t[">"] = t["gt"];
  t["ge"] = ordered("ge", 1, true);
  t[">="] = t["ge"];
  t["in"] = [](Evaluator& ev, const Value& v, CallArgs& a) { return ev.contains(arg0(a, "in"), v); };
  t["sameas"] = [](Evaluator&, const Value& v, CallArgs& a) { return v.same_object(arg0(a, "sameas")); };
  t["divisibleby"] = [](Evaluator&, const Value& v, CallArgs& a) {
    const Value& n = arg0(a, "divisibleby");
    if (!v.is_number() || !n.is_number()) throw_type("divisibleby needs numbers");
    if (n.as_double() == 0) throw_type("integer division or modulo by zero");
    if (v.is_float() || n.is_float()) return std::fmod(v.as_double(), n.as_double()) == 0;
    const int64_t d = n.as_int();
    return d == -1 || d == 1 || (d != 0 && v.as_int() % d == 0);  // (INT64_MIN % -1 overflows)
  };
  t["even"] = [](Evaluator&, const Value& v, CallArgs&) {
    if (!v.is_int() && !v.is_bool()) throw_type("even needs an integer");
    return v.as_int() % 2 == 0;
  };
  t["odd"] = [](Evaluator&, const Value& v, CallArgs&) {
    if (!v.is_int() && !v.is_bool()) throw_type("odd needs an integer");
    return v.as_int() % 2 != 0;
  };
  t["filter"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_string() && find_filter(v.str()) != nullptr; };
  t["test"] = [](Evaluator&, const Value& v, CallArgs&) { return v.is_string() && find_test(v.str()) != nullptr; };
  return t;
}

constexpr int64_t kMaxRange = 100000;

Value do_range(Evaluator& ev, CallArgs& a) {
  if (a.args.empty() || a.args.size() > 3) throw_type("range expected 1 to 3 arguments");
  for (const Value& v : a.args) {
    if (!v.is_int() && !v.is_bool()) throw_type(fmt::format("'{}' object cannot be interpreted as an integer", v.type_name()));
  }
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = a.args[0].as_int();
  } else {
    start = a.args[0].as_int();
    stop = a.args[1].as_int();
    if (a.args.size() == 3) step = a.args[2].as_int();
  }
  if (step == 0) throw_type("range() arg 3 must not be zero");
  int64_t n = 0;
  if (step > 0 && start < stop) n = (stop - start - 1) / step + 1;
  if (step < 0 && start > stop) n = (start - stop - 1) / (-step) + 1;
  if (n > kMaxRange) {
    throw ValueError(ErrorKind::security, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  ev.step(1 + static_cast<uint64_t>(n));
  List items;
  items.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) items.emplace_back(start + i * step);
  return Value::make_list(std::move(items));
}

Value make_dict(CallArgs& a, bool is_namespace) {
  auto d = std::make_shared<Dict>();
  d->is_namespace = is_namespace;
  for (const Value& arg : a.args) {
    if (arg.is_dict()) {
      for (const auto& [k, v] : arg.dict().items) d->set(k, v);
    } else if (arg.is_list()) {
      for (const Value& pair : arg.list()) {
        if (!pair.is_list() || pair.list().size() != 2) throw_type("dictionary update sequence element has wrong length");
        d->set(pair.list()[0], pair.list()[1]);
      }
    } else {
      throw_type(std::string("'") + arg.type_name() + "' object is not iterable");
    }
  }
  for (const auto& [k, v] : a.kwargs) d->set(Value(k), v);
  return Value::make_dict(std::move(d));
}

}  // namespace

const TestFn* find_test(const std::string& name) {
  static const Tests table = make_tests();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

void add_globals(Dict& g) {
  g.set(Value("range"), Value::native("range", do_range));
  g.set(Value("dict"), Value::native("dict", [](Evaluator&, CallArgs& a) { return make_dict(a, false); }));
  g.set(Value("namespace"), Value::native("namespace", [](Evaluator&, CallArgs& a) { return make_dict(a, true); }));
  g.set(Value("raise_exception"), Value::native("raise_exception", [](Evaluator& ev, CallArgs& a) -> Value {
          const Value* msg = a.get(0, "message");
          throw ValueError(ErrorKind::raised, msg ? to_str(*msg, ev.max_bytes()) : "");
        }));
  g.set(Value("strftime_now"), Value::native("strftime_now", [](Evaluator& ev, CallArgs& a) -> Value {
          const Value* fmt = a.get(0, "format");
          if (fmt == nullptr || !fmt->is_string()) throw_type("strftime_now() expects a format string");
          if (fmt->str().size() > 256) throw_type("strftime_now() format too long");
          char buf[4096];
          const size_t n = std::strftime(buf, sizeof buf, fmt->str().c_str(), &ev.now());
          return Value(std::string(buf, n));
        }));
  g.set(Value("joiner"), Value::native("joiner", [](Evaluator&, CallArgs& a) -> Value {
          const Value* sep = a.get(0, "sep");
          auto used = std::make_shared<bool>(false);
          std::string s = sep ? to_str(*sep) : ", ";
          return Value::native("joiner", [used, s](Evaluator&, CallArgs&) -> Value {
            if (!*used) {
              *used = true;
              return Value("");
            }
            return Value(s);
          });
        }));
  g.set(Value("cycler"), Value::native("cycler", [](Evaluator&, CallArgs& a) -> Value {
          auto items = std::make_shared<List>(a.args);
          auto pos = std::make_shared<size_t>(0);
          Value c = Value::make_dict();
          c.dict().set(Value("next"), Value::native("next", [items, pos](Evaluator&, CallArgs&) -> Value {
            if (items->empty()) return Value::none();
            Value v = (*items)[*pos % items->size()];
            ++*pos;
            return v;
          }));
          return c;
        }));
}

}  // namespace owl::chat
