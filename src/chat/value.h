// The template engine's value: Python's data model as jinja2 sees it (None, bool, int, float, str,
// list, dict, callables) plus jinja2's Undefined. Lists and dicts are shared by reference, as in
// Python; strings are immutable and shared. Conversions follow Python's str(), repr() and ==.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/error.h"

namespace owl::chat {

class Value;
class Evaluator;
using List = std::vector<Value>;

struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  const Value* kwarg(std::string_view name) const;
  // Positional i, else the keyword name, else nullptr (Python's argument binding for builtins).
  const Value* get(size_t i, std::string_view name) const;
};

struct Function {
  explicit Function(std::string n) : name(std::move(n)) {}
  virtual ~Function() = default;
  virtual Value call(Evaluator& ev, CallArgs& args) = 0;
  std::string name;
};

using NativeFn = std::function<Value(Evaluator&, CallArgs&)>;
struct NativeFunction : Function {
  NativeFunction(std::string n, NativeFn f) : Function(std::move(n)), fn(std::move(f)) {}
  Value call(Evaluator& ev, CallArgs& args) override;
  NativeFn fn;
};

struct Dict;

class Value {
 public:
  enum class Kind : uint8_t { undefined, none, boolean, integer, floating, string, list, dict, function };

  Value() = default;  // undefined, no name
  Value(const Value&) = default;
  Value(Value&&) noexcept = default;
  Value& operator=(const Value&) = default;
  Value& operator=(Value&&) noexcept = default;
  // Frees nested lists and dicts without recursing: data built a million levels deep by a hostile
  // template must not overflow the stack when it goes away.
  ~Value();
  Value(bool b) : kind_(Kind::boolean), b_(b) {}  // NOLINT: implicit like Python literals
  Value(int v) : kind_(Kind::integer), i_(v) {}
  Value(int64_t v) : kind_(Kind::integer), i_(v) {}
  Value(double v) : kind_(Kind::floating), f_(v) {}
  Value(std::string s) : kind_(Kind::string), s_(std::make_shared<const std::string>(std::move(s))) {}
  Value(const char* s) : Value(std::string(s)) {}
  // A markupsafe.Markup string (what |safe and |e give): adding a plain string to it escapes
  // the plain one, as `+` does under transformers' jinja2 environment.
  static Value markup(std::string s);
  // A list that jinja2 would hand over as a generator (what map, select, reject, selectattr,
  // rejectattr, unique, batch and slice return): iterable, but len() and tojson raise TypeError
  // as Python does and [i] is undefined (|list makes it a list).
  static Value generator(List items);
  // jinja2's _GroupTuple from groupby: the pair (grouper, list), also read as .grouper and .list,
  // printed as a tuple.
  static Value group_tuple(Value grouper, List items);
  static Value undefined(std::string hint);
  static Value none();
  static Value make_list(List items = {});
  static Value make_dict();
  static Value make_dict(std::shared_ptr<Dict> d);
  static Value function(std::shared_ptr<Function> f);
  static Value native(std::string name, NativeFn f);
  // JSON data → values: objects keep their key order. Throws ValueError when nested too deep.
  static Value from_json(const nlohmann::ordered_json& j, int depth = 0);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::undefined; }
  bool is_none() const { return kind_ == Kind::none; }
  bool is_bool() const { return kind_ == Kind::boolean; }
  bool is_int() const { return kind_ == Kind::integer; }
  bool is_float() const { return kind_ == Kind::floating; }
  bool is_number() const { return kind_ == Kind::integer || kind_ == Kind::floating || kind_ == Kind::boolean; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_markup() const { return kind_ == Kind::string && markup_; }
  bool is_generator() const { return kind_ == Kind::list && markup_; }
  bool is_group_tuple() const { return kind_ == Kind::list && group_; }
  bool is_list() const { return kind_ == Kind::list; }
  bool is_dict() const { return kind_ == Kind::dict; }
  bool is_function() const { return kind_ == Kind::function; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::boolean ? (b_ ? 1 : 0) : i_; }  // integer or boolean
  double as_double() const;                                                       // any number
  const std::string& str() const { return *s_; }
  List& list() const { return *l_; }
  Dict& dict() const { return *d_; }
  Function& function() const { return *fn_; }
  const std::shared_ptr<List>& list_ptr() const { return l_; }
  const std::string& undefined_hint() const;  // "'x' is undefined" style text, may be empty

  bool truthy() const;
  std::string type_name() const;  // Python's type(x).__name__
  bool same_object(const Value& o) const;  // Python's `is`

 private:
  Kind kind_ = Kind::undefined;
  bool b_ = false;
  bool markup_ = false;  // a string that is Markup, or a list that is a generator
  bool group_ = false;   // a list that is a groupby _GroupTuple
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<const std::string> s_;  // string, or the undefined hint
  std::shared_ptr<List> l_;
  std::shared_ptr<Dict> d_;
  std::shared_ptr<Function> fn_;
};

// An insertion-ordered dict. String keys are indexed; other keys are found by equality.
struct Dict {
  std::vector<std::pair<Value, Value>> items;
  bool is_namespace = false;  // jinja2's namespace(): attribute assignment allowed

  const Value* find(std::string_view key) const;
  const Value* find(const Value& key) const;
  void set(const Value& key, Value value);
  size_t size() const { return items.size(); }

 private:
  std::map<std::string, size_t, std::less<>> index_;
};

// Recursion limit for str()/repr()/==/tojson on nested data (Python raises RecursionError).
constexpr int kMaxValueDepth = 256;

// Python float repr: shortest round-trip digits, "1.0", "1e-05", "1e+16", "inf", "nan".
std::string format_float(double v);
// Python str(x) and repr(x); undefined prints as "". Throws ValueError(budget) past max_bytes.
std::string to_str(const Value& v, size_t max_bytes = SIZE_MAX);
std::string repr(const Value& v, size_t max_bytes = SIZE_MAX);
void append_repr(std::string& out, const Value& v, size_t max_bytes, int depth);
std::string repr_string(std::string_view s);
// Python == (1 == 1.0 == True; lists and dicts compare deeply; undefined equals undefined).
bool equals(const Value& a, const Value& b, int depth = 0);
// Python ordering for <, >, sort: numbers, strings, lists; TypeError otherwise.
int compare(const Value& a, const Value& b, int depth = 0);

}  // namespace owl::chat
