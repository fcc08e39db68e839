// The builtin filters of jinja2 (jinja2.filters) that chat templates use, with jinja2's argument
// names and defaults, plus `tojson` as transformers defines it (json.dumps, ensure_ascii=False).
// from_json is deliberately absent: transformers does not register it.
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "chat/builtins.h"
#include "chat/pyjson.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

int64_t length_of(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::string: return static_cast<int64_t>(text::count_code_points(v.str()));
    case Value::Kind::list:
      if (v.is_generator()) throw_type("object of type 'generator' has no len()");
      return static_cast<int64_t>(v.list().size());
    case Value::Kind::dict: return static_cast<int64_t>(v.dict().size());
    case Value::Kind::undefined: return 0;
    default: throw_type(std::string("object of type '") + v.type_name() + "' has no len()");
  }
}

bool opt_bool(const CallArgs& a, size_t i, std::string_view name, bool fallback) {
  const Value* v = a.get(i, name);
  return v ? v->truthy() : fallback;
}

// jinja2's make_attrgetter: "a.b.0" looked up item-first, part by part.
Value attr_path(Evaluator& ev, const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return ev.getitem(item, attribute);
  Value v = item;
  const std::string& path = attribute.str();
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    const bool numeric = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
    v = ev.getitem(v, numeric ? Value(static_cast<int64_t>(std::atoll(part.c_str()))) : Value(part));
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// Sort key transform: lower-case strings unless case_sensitive.
Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(text::lower(v.str()));
  return v;
}

void sort_values(Evaluator& ev, List& items, bool reverse, bool case_sensitive, const Value* attribute) {
  ev.step(1 + items.size() * 4);
  std::vector<std::pair<Value, Value>> keyed;
  keyed.reserve(items.size());
  for (const Value& v : items) {
    Value k = attribute && !attribute->is_none() ? attr_path(ev, v, *attribute) : v;
    if (k.is_undefined()) k = Value::none();
    keyed.emplace_back(sort_key(k, case_sensitive), v);
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    return reverse ? compare(b.first, a.first) < 0 : compare(a.first, b.first) < 0;
  });
  for (size_t i = 0; i < items.size(); ++i) items[i] = keyed[i].second;
}

// groupby(attribute, default=None, case_sensitive=False): sorted by the attribute (lower-cased
// unless case_sensitive), consecutive equal keys grouped, each group named by its first item's
// attribute as written.
Value groupby_filter(Evaluator& ev, const Value& seq, CallArgs& a) {
  const Value* attribute = a.get(0, "attribute");
  if (attribute == nullptr) throw_type("groupby() missing required argument: 'attribute'");
  const Value* fallback = a.get(1, "default");
  const bool case_sensitive = a.get(2, "case_sensitive") != nullptr && a.get(2, "case_sensitive")->truthy();
  auto key_of = [&](const Value& item) {
    Value k = attr_path(ev, item, *attribute);
    if (k.is_undefined() && fallback != nullptr) k = *fallback;
    return k;
  };
  List items = ev.iterate(seq);
  ev.step(1 + items.size() * 4);
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& item : items) keyed.emplace_back(sort_key(key_of(item), case_sensitive), std::move(item));
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) { return compare(x.first, y.first) < 0; });
  List out;
  for (size_t i = 0; i < keyed.size();) {
    size_t j = i;
    List group;
    while (j < keyed.size() && equals(keyed[j].first, keyed[i].first)) group.push_back(keyed[j++].second);
    Value grouper = case_sensitive ? keyed[i].first : key_of(group.front());
    out.push_back(Value::group_tuple(std::move(grouper), std::move(group)));
    i = j;
  }
  return Value::make_list(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value select_filter(Evaluator& ev, const Value& seq, CallArgs& a, bool by_attr, bool keep_if) {
  size_t first = 0;
  Value attribute;
  if (by_attr) {
    if (a.args.empty()) throw_type("missing attribute for selectattr/rejectattr");
    attribute = a.args[0];
    first = 1;
  }
  std::string test;
  CallArgs test_args;
  if (a.args.size() > first) {
    if (!a.args[first].is_string()) throw_type("the test name must be a string");
    test = a.args[first].str();
    test_args.args.assign(a.args.begin() + static_cast<std::ptrdiff_t>(first + 1), a.args.end());
    test_args.kwargs = a.kwargs;
  }
  List out;
  if (!seq.truthy()) return Value::make_list();  // jinja2: `if value:` guards the loop
  for (const Value& item : ev.iterate(seq)) {
    ev.step();
    const Value v = by_attr ? attr_path(ev, item, attribute) : item;
    CallArgs args = test_args;
    const bool pass = test.empty() ? v.truthy() : ev.apply_test(test, v, args);
    if (pass == keep_if) out.push_back(item);
  }
  return Value::make_list(std::move(out));
}

std::string indent_text(const std::string& s_in, const Value* width, bool first, bool blank) {
  std::string ind = "    ";
  if (width && width->is_string()) ind = width->str();
  else if (width) ind = std::string(static_cast<size_t>(std::clamp<int64_t>(to_int_or(*width, 4), 0, 4096)), ' ');
  std::vector<std::string> lines;
  const std::string s = s_in + "\n";
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      lines.push_back(s.substr(start, i - start));
      if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) rv += (i ? std::string("\n") + ind : "") + lines[i];
  } else {
    rv = lines.empty() ? "" : lines[0];
    for (size_t i = 1; i < lines.size(); ++i) rv += std::string("\n") + (lines[i].empty() ? "" : ind + lines[i]);
  }
  return first ? ind + rv : rv;
}

Value do_tojson(Evaluator& ev, const Value& v, CallArgs& a) {
  JsonDumpOptions o;
  o.max_bytes = ev.max_bytes();
  if (const Value* e = a.kwarg("ensure_ascii")) o.ensure_ascii = e->truthy();
  const Value* indent = a.get(0, "indent");
  if (indent && !indent->is_none()) {
    o.has_indent = true;
    if (indent->is_string()) {
      o.indent = indent->str();
    } else {
      o.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(to_int_or(*indent, 0), 0, 1024)), ' ');
    }
    o.item_separator = ",";
  }
  if (const Value* sep = a.kwarg("separators"); sep && !sep->is_none()) {
    if (!sep->is_list() || sep->list().size() != 2 || !sep->list()[0].is_string() || !sep->list()[1].is_string()) {
      throw_type("separators must be a (item_separator, key_separator) pair of strings");
    }
    o.item_separator = sep->list()[0].str();
    o.key_separator = sep->list()[1].str();
  }
  if (const Value* sk = a.kwarg("sort_keys")) o.sort_keys = sk->truthy();
  return ev.make_string(json_dumps(v, o));
}

using Table = FilterTable;

// What jinja2 returns as a generator (see Value::generator).
Value as_generator(const Value& list) { return Value::generator(list.list()); }

Table make_filters() {
  Table t;
  t["length"] = [](Evaluator&, const Value& v, CallArgs&) { return Value(length_of(v)); };
  t["count"] = t["length"];
  t["string"] = [](Evaluator& ev, const Value& v, CallArgs&) { return v.is_string() ? v : ev.make_string(str_of(ev, v)); };
  t["safe"] = [](Evaluator& ev, const Value& v, CallArgs&) { return v.is_markup() ? v : Value::markup(str_of(ev, v)); };
  t["e"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    return v.is_markup() ? v : Value::markup(text::html_escape(str_of(ev, v)));  // Markup is not escaped twice
  };
  t["escape"] = t["e"];
  t["forceescape"] = [](Evaluator& ev, const Value& v, CallArgs&) { return Value::markup(text::html_escape(str_of(ev, v))); };
  t["tojson"] = do_tojson;
  t["trim"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* chars = a.get(0, "chars");
    const bool ws = chars == nullptr || chars->is_none();
    return Value(text::strip(str_of(ev, v), ws ? "" : str_of(ev, *chars), true, true, ws));
  };
  t["upper"] = [](Evaluator& ev, const Value& v, CallArgs&) { return Value(text::upper(str_of(ev, v))); };
  t["lower"] = [](Evaluator& ev, const Value& v, CallArgs&) { return Value(text::lower(str_of(ev, v))); };
  t["capitalize"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    const std::string s = text::lower(str_of(ev, v));
    if (s.empty()) return Value(s);
    size_t pos = 0;
    const char32_t c = text::next_code_point(s, pos);
    std::string out;
    text::append_utf8(out, text::to_upper(c));
    return Value(out + s.substr(pos));
  };
  t["title"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    CallArgs none;
    return ev.call(find_method(Value(str_of(ev, v)), "title"), none);
  };
  t["default"] = [](Evaluator&, const Value& v, CallArgs& a) {
    const Value* def = a.get(0, "default_value");
    const bool boolean = opt_bool(a, 1, "boolean", false);
    if (v.is_undefined() || (boolean && !v.truthy())) return def ? *def : Value("");
    return v;
  };
  t["d"] = t["default"];
  t["join"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* sep = a.get(0, "d");
    const Value* attribute = a.get(1, "attribute");
    const std::string d = sep ? str_of(ev, *sep) : "";
    std::string out;
    bool first = true;
    for (const Value& item : ev.iterate(v)) {
      if (!first) out += d;
      first = false;
      out += str_of(ev, attribute && !attribute->is_none() ? attr_path(ev, item, *attribute) : item);
      if (out.size() > ev.max_bytes()) throw_budget("string too long");
    }
    return ev.make_string(std::move(out));
  };
  t["list"] = [](Evaluator& ev, const Value& v, CallArgs&) { return Value::make_list(ev.iterate(v)); };
  t["first"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    if (v.is_list()) return v.list().empty() ? Value::undefined("No first item, sequence was empty.") : v.list()[0];
    List items = ev.iterate(v);
    return items.empty() ? Value::undefined("No first item, sequence was empty.") : items[0];
  };
  t["last"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    if (v.is_list()) return v.list().empty() ? Value::undefined("No last item, sequence was empty.") : v.list().back();
    List items = ev.iterate(v);
    return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
  };
  t["reverse"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    if (v.is_string()) {
      List chars = ev.iterate(v);
      std::string out;
      for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += it->str();
      return Value(std::move(out));
    }
    List items = ev.iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::make_list(std::move(items));
  };
  t["items"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    if (v.is_undefined()) return Value::make_list();
    if (!v.is_dict()) throw_type("Can only get item pairs from a mapping.");
    ev.step(1 + v.dict().size());
    List out;
    for (const auto& [k, e] : v.dict().items) out.push_back(Value::make_list({k, e}));
    return Value::make_list(std::move(out));
  };
  t["dictsort"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    if (!v.is_dict()) throw_type("dictsort: expected a mapping");
    const bool cs = opt_bool(a, 0, "case_sensitive", false);
    const Value* by = a.get(1, "by");
    const bool by_value = by && by->is_string() && by->str() == "value";
    const bool reverse = opt_bool(a, 2, "reverse", false);
    List pairs;
    for (const auto& [k, e] : v.dict().items) pairs.push_back(Value::make_list({k, e}));
    const Value index(by_value ? 1 : 0);
    sort_values(ev, pairs, reverse, cs, &index);
    return Value::make_list(std::move(pairs));
  };
  t["sort"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    List items = ev.iterate(v);
    sort_values(ev, items, opt_bool(a, 0, "reverse", false), opt_bool(a, 1, "case_sensitive", false),
                a.get(2, "attribute"));
    return Value::make_list(std::move(items));
  };
  t["unique"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const bool cs = opt_bool(a, 0, "case_sensitive", false);
    const Value* attribute = a.get(1, "attribute");
    List out, seen;
    for (const Value& item : ev.iterate(v)) {
      ev.step(1 + seen.size());
      Value key = sort_key(attribute && !attribute->is_none() ? attr_path(ev, item, *attribute) : item, cs);
      bool dup = false;
      for (const Value& s : seen) dup = dup || equals(s, key);
      if (dup) continue;
      seen.push_back(key);
      out.push_back(item);
    }
    return Value::generator(std::move(out));
  };
  auto min_max = [](bool want_max) {
    return [want_max](Evaluator& ev, const Value& v, CallArgs& a) -> Value {
      List items = ev.iterate(v);
      if (items.empty()) return Value::undefined(std::string("No aggregated item, sequence was empty."));
      sort_values(ev, items, false, opt_bool(a, 0, "case_sensitive", false), a.get(1, "attribute"));
      return want_max ? items.back() : items.front();
    };
  };
  t["min"] = min_max(false);
  t["max"] = min_max(true);
  t["sum"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* attribute = a.get(0, "attribute");
    const Value* start = a.get(1, "start");
    Value total = start ? *start : Value(0);
    for (const Value& item : ev.iterate(v)) {
      total = ev.binary_op("+", total, attribute && !attribute->is_none() ? attr_path(ev, item, *attribute) : item);
    }
    return total;
  };
  t["map"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    List out;
    if (!v.truthy()) return Value::generator({});  // jinja2: `if value:` guards the loop
    const Value* attribute = a.kwarg("attribute");
    if (attribute) {
      const Value* def = a.kwarg("default");
      for (const Value& item : ev.iterate(v)) {
        ev.step();
        Value r = attr_path(ev, item, *attribute);
        out.push_back(r.is_undefined() && def ? *def : r);
      }
      return Value::generator(std::move(out));
    }
    if (a.args.empty() || !a.args[0].is_string()) throw_type("map requires a filter name or attribute=");
    const std::string name = a.args[0].str();
    CallArgs rest;
    rest.args.assign(a.args.begin() + 1, a.args.end());
    rest.kwargs = a.kwargs;
    for (const Value& item : ev.iterate(v)) {
      CallArgs args = rest;
      out.push_back(ev.apply_filter(name, item, args));
    }
    return Value::generator(std::move(out));
  };
  t["groupby"] = groupby_filter;
  t["select"] = [](Evaluator& ev, const Value& v, CallArgs& a) { return as_generator(select_filter(ev, v, a, false, true)); };
  t["reject"] = [](Evaluator& ev, const Value& v, CallArgs& a) { return as_generator(select_filter(ev, v, a, false, false)); };
  t["selectattr"] = [](Evaluator& ev, const Value& v, CallArgs& a) { return as_generator(select_filter(ev, v, a, true, true)); };
  t["rejectattr"] = [](Evaluator& ev, const Value& v, CallArgs& a) { return as_generator(select_filter(ev, v, a, true, false)); };
  t["attr"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    if (a.args.empty() || !a.args[0].is_string()) throw_type("attr requires an attribute name");
    return ev.getattr(v, a.args[0].str());
  };
  t["replace"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    CallArgs args;
    for (size_t i = 0; i < 3; ++i) {
      const Value* x = a.get(i, i == 0 ? "old" : i == 1 ? "new" : "count");
      if (x == nullptr) break;
      args.args.push_back(i < 2 ? Value(str_of(ev, *x)) : *x);
    }
    return ev.call(find_method(Value(str_of(ev, v)), "replace"), args);
  };
  t["int"] = [](Evaluator&, const Value& v, CallArgs& a) {
    const Value* def = a.get(0, "default");
    bool ok = false;
    int64_t r = to_int_or(v, 0, &ok);
    if (!ok && v.is_string()) {
      char* end = nullptr;
      const double d = std::strtod(v.str().c_str(), &end);
      if (end != v.str().c_str() && std::isfinite(d)) return Value(static_cast<int64_t>(d));
    }
    return ok ? Value(r) : (def ? *def : Value(0));
  };
  t["float"] = [](Evaluator&, const Value& v, CallArgs& a) {
    const Value* def = a.get(0, "default");
    if (v.is_number()) return Value(v.as_double());
    if (v.is_string()) {
      const std::string s = text::strip(v.str(), "", true, true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
    }
    return def ? *def : Value(0.0);
  };
  t["abs"] = [](Evaluator&, const Value& v, CallArgs&) {
    if (v.is_float()) return Value(std::fabs(v.as_double()));
    if (v.is_int() || v.is_bool()) return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    throw_type(std::string("bad operand type for abs(): '") + v.type_name() + "'");
  };
  t["round"] = [](Evaluator&, const Value& v, CallArgs& a) {
    if (!v.is_number()) throw_type("round: expected a number");
    const Value* p = a.get(0, "precision");
    const Value* m = a.get(1, "method");
    const double scale = std::pow(10.0, static_cast<double>(p ? to_int_or(*p, 0) : 0));
    const std::string method = m && m->is_string() ? m->str() : "common";
    double x = v.as_double() * scale;
    x = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);  // half to even, as Python
    return Value(x / scale);
  };
  t["indent"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    return ev.make_string(indent_text(str_of(ev, v), a.get(0, "width"), opt_bool(a, 1, "first", false),
                                      opt_bool(a, 2, "blank", false)));
  };
  t["center"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    const Value* w = a.get(0, "width");
    const std::string s = str_of(ev, v);
    const auto width = static_cast<size_t>(std::clamp<int64_t>(w ? to_int_or(*w, 80) : 80, 0, 1 << 20));
    const size_t len = text::count_code_points(s);
    if (len >= width) return Value(s);
    const size_t left = (width - len) / 2 + ((width - len) % 2 & width % 2);
    return ev.make_string(std::string(left, ' ') + s + std::string(width - len - left, ' '));
  };
  t["format"] = [](Evaluator& ev, const Value& v, CallArgs& a) {
    Value args = Value::make_list(a.args);
    if (!a.kwargs.empty()) {
      args = Value::make_dict();
      for (const auto& [k, x] : a.kwargs) args.dict().set(Value(k), x);
    }
    return ev.make_string(percent_format(ev, str_of(ev, v), args));
  };
  t["wordcount"] = [](Evaluator& ev, const Value& v, CallArgs&) {
    return Value(static_cast<int64_t>(split_string(ev, str_of(ev, v), Value::none(), -1).size()));
  };
  t["pprint"] = [](Evaluator& ev, const Value& v, CallArgs&) { return ev.make_string(repr(v, ev.max_bytes())); };
  add_extra_filters(t);
  return t;
}

}  // namespace

const FilterFn* find_filter(const std::string& name) {
  static const Table table = make_filters();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace owl::chat
