// The evaluator of the template engine: walks the syntax tree with jinja2's scoping (for-loops and
// macros open a scope, if does not), loop variables, macros, call blocks and namespaces, under a
// budget of steps, output bytes and call depth so that untrusted templates always terminate.
#pragma once

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "chat/ast.h"
#include "chat/value.h"

namespace owl::chat {

struct RenderLimits {
  uint64_t max_steps = 5'000'000;         // expression and statement evaluations, plus bytes / 64 of built strings
  size_t max_output_bytes = 16u << 20;    // the rendered text, and any one string value
  int max_call_depth = 64;                // nested macro calls
};

class Evaluator;
using FilterFn = std::function<Value(Evaluator&, const Value&, CallArgs&)>;
using TestFn = std::function<bool(Evaluator&, const Value&, CallArgs&)>;

// Registries (builtins.cpp, filters.cpp): nullptr when the name is unknown.
const FilterFn* find_filter(const std::string& name);
const TestFn* find_test(const std::string& name);
void add_globals(Dict& globals);

class Evaluator {
 public:
  Evaluator(const std::string& template_name, const RenderLimits& limits, std::tm now);

  // Renders body with the variables of globals (a dict).
  std::string render(const Body& body, const Value& globals);

  // ---- services for filters, methods and globals
  void step(uint64_t n = 1);
  void charge_bytes(size_t n) { step(1 + n / 64); }  // the work of n bytes (make_string checks the size)
  size_t max_bytes() const { return limits_.max_output_bytes; }
  Value call(const Value& callee, CallArgs& args);
  Value apply_filter(const std::string& name, const Value& v, CallArgs& args);
  bool apply_test(const std::string& name, const Value& v, CallArgs& args);
  const std::tm& now() const { return now_; }

  // Operators shared with filters (operators.cpp).
  Value getattr(const Value& obj, const std::string& attr);
  Value getitem(const Value& obj, const Value& key);
  Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step_v);
  Value binary_op(const std::string& op, const Value& a, const Value& b);
  bool contains(const Value& container, const Value& item);
  // The items a for-loop or a filter iterates: list items, dict keys, string characters.
  List iterate(const Value& v);
  Value make_string(std::string s);  // charges the bytes and checks the size

 private:
  struct Frame {
    std::unordered_map<std::string, Value> vars;
    std::shared_ptr<Frame> parent;
  };
  using FramePtr = std::shared_ptr<Frame>;
  enum class Flow { normal, break_, continue_ };
  struct Macro;

  Flow exec_body(const Body& body, std::string& out);
  Flow exec(const Stmt& s, std::string& out);
  void exec_for(const Stmt& s, std::string& out);
  void run_loop(const Stmt& s, const Value& seq, int64_t depth, std::string& out);
  void exec_set(const Stmt& s);
  Value eval(const Expr& e);
  Value eval_inner(const Expr& e);
  Value eval_call(const Expr& e);
  Value eval_compare(const Expr& e);
  void collect_args(const Expr& e, size_t first, CallArgs& args);
  Value lookup(const std::string& name) const;
  void assign(const std::string& name, Value v) { frame_->vars[name] = std::move(v); }
  void append(std::string& out, std::string_view s);
  Value call_macro(const Macro& m, CallArgs& args);
  [[noreturn]] void fail_at(const Expr& e, ErrorKind kind, const std::string& msg) const;

  std::string name_;
  RenderLimits limits_;
  std::tm now_;
  uint64_t steps_ = 0;
  uint64_t bytes_written_ = 0;
  int depth_ = 0;
  int call_depth_ = 0;
  FramePtr frame_;
};

}  // namespace owl::chat
