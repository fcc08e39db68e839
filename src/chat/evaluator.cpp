// Statement execution and expression evaluation (see evaluator.h). Scoping mirrors jinja2: a
// for-loop body, a macro call and a with-block get their own frame, if-branches write to the
// enclosing one; namespace() objects are the way state leaves a loop.
#include "chat/evaluator.h"

#include "chat/text.h"

namespace owl::chat {

namespace {
constexpr int kMaxEvalDepth = 512;  // nested evaluations (expressions, statements and macro bodies)

struct DepthGuard {
  explicit DepthGuard(int& d) : d_(d) {
    if (++d_ > kMaxEvalDepth) {
      --d_;
      throw_budget("template evaluation nested too deeply (recursion limit)");
    }
  }
  ~DepthGuard() { --d_; }
  int& d_;
};
}  // namespace

struct Evaluator::Macro : Function {
  Macro(std::string n, const Stmt* d, FramePtr c, size_t offset)
      : Function(std::move(n)), def(d), closure(std::move(c)), default_offset(offset) {}
  Value call(Evaluator& ev, CallArgs& args) override { return ev.call_macro(*this, args); }
  const Stmt* def;
  FramePtr closure;
  size_t default_offset;  // where the parameter defaults start in def->exprs
};

Evaluator::Evaluator(const std::string& template_name, const RenderLimits& limits, std::tm now)
    : name_(template_name), limits_(limits), now_(now) {}

void Evaluator::step(uint64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps) {
    throw_budget(std::string("template exceeded its budget of ") + std::to_string(limits_.max_steps) + " evaluation steps");
  }
}

Value Evaluator::make_string(std::string s) {
  if (s.size() > limits_.max_output_bytes) {
    throw_budget(std::string("string too long (") + std::to_string(s.size()) + " bytes; the limit is " +
                 std::to_string(limits_.max_output_bytes) + ")");
  }
  charge_bytes(s.size());
  return Value(std::move(s));
}

void Evaluator::append(std::string& out, std::string_view s) {
  if (out.size() + s.size() > limits_.max_output_bytes) {
    throw_budget(std::string("rendered output exceeds ") + std::to_string(limits_.max_output_bytes) + " bytes");
  }
  bytes_written_ += s.size();
  if (bytes_written_ > 8 * static_cast<uint64_t>(limits_.max_output_bytes)) {
    throw_budget(std::string("template wrote more than ") + std::to_string(8 * limits_.max_output_bytes) + " bytes in all");
  }
  charge_bytes(s.size());
  out.append(s);
}

std::string Evaluator::render(const Body& body, const Value& globals) {
  frame_ = std::make_shared<Frame>();
  for (const auto& [k, v] : globals.dict().items) frame_->vars[k.str()] = v;
  std::string out;
  exec_body(body, out);
  frame_.reset();
  return out;
}

void Evaluator::fail_at(const Expr& e, ErrorKind kind, const std::string& msg) const {
  throw TemplateError(kind, name_, e.line, e.column, msg);
}

Value Evaluator::lookup(const std::string& name) const {
  for (const Frame* f = frame_.get(); f != nullptr; f = f->parent.get()) {
    auto it = f->vars.find(name);
    if (it != f->vars.end()) return it->second;
  }
  return Value::undefined(std::string("'") + name + "' is undefined");
}

// ---- statements

Evaluator::Flow Evaluator::exec_body(const Body& body, std::string& out) {
  for (const auto& s : body) {
    const Flow f = exec(*s, out);
    if (f != Flow::normal) return f;
  }
  return Flow::normal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s, std::string& out) {
  step();
  DepthGuard guard(depth_);
  try {
    switch (s.kind) {
      case StmtKind::text: append(out, s.text); return Flow::normal;
      case StmtKind::output: {
        const Value v = eval(*s.exprs[0]);
        if (v.is_string()) {
          append(out, v.str());
        } else {
          append(out, to_str(v, limits_.max_output_bytes));
        }
        return Flow::normal;
      }
      case StmtKind::if_:
        for (size_t i = 0; i < s.exprs.size(); ++i) {
          if (eval(*s.exprs[i]).truthy()) return exec_body(s.bodies[i], out);
        }
        if (s.bodies.size() > s.exprs.size()) return exec_body(s.bodies.back(), out);
        return Flow::normal;
      case StmtKind::for_: exec_for(s, out); return Flow::normal;
      case StmtKind::set: exec_set(s); return Flow::normal;
      case StmtKind::set_block: {
        std::string captured;
        exec_body(s.bodies[0], captured);
        Value v(std::move(captured));
        if (s.exprs[0]) {
          // The filter chain's innermost value is null: feed the captured text through it.
          std::vector<const Expr*> chain;
          for (const Expr* f = s.exprs[0].get(); f != nullptr; f = f->args[0].get()) chain.push_back(f);
          for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            CallArgs args;
            collect_args(**it, 1, args);
            v = apply_filter((*it)->name, v, args);
          }
        }
        assign(s.targets[0], std::move(v));
        return Flow::normal;
      }
      case StmtKind::macro:
        assign(s.name, Value::function(std::make_shared<Macro>(s.name, &s, frame_, 0)));
        return Flow::normal;
      case StmtKind::call_block: {
        const Expr& call = *s.exprs[0];
        Value callee = eval(*call.args[0]);
        CallArgs args;
        collect_args(call, 1, args);
        args.kwargs.emplace_back("caller", Value::function(std::make_shared<Macro>("caller", &s, frame_, 1)));
        append(out, to_str(this->call(callee, args), limits_.max_output_bytes));
        return Flow::normal;
      }
      case StmtKind::filter_block: {
        std::string captured;
        exec_body(s.bodies[0], captured);
        Value v(std::move(captured));
        std::vector<const Expr*> chain;
        for (const Expr* f = s.exprs[0].get(); f != nullptr; f = f->args[0].get()) chain.push_back(f);
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
          CallArgs args;
          collect_args(**it, 1, args);
          v = apply_filter((*it)->name, v, args);
        }
        append(out, to_str(v, limits_.max_output_bytes));
        return Flow::normal;
      }
      case StmtKind::with: {
        auto inner = std::make_shared<Frame>();
        inner->parent = frame_;
        for (size_t i = 0; i < s.targets.size(); ++i) inner->vars[s.targets[i]] = eval(*s.exprs[i]);
        FramePtr saved = frame_;
        frame_ = inner;
        Flow f;
        try {
          f = exec_body(s.bodies[0], out);
        } catch (...) {
          frame_ = saved;
          throw;
        }
        frame_ = saved;
        return f;
      }
      case StmtKind::scope: return exec_body(s.bodies[0], out);
      case StmtKind::break_: return Flow::break_;
      case StmtKind::continue_: return Flow::continue_;
    }
  } catch (const ValueError& e) {
    throw TemplateError(e.kind, name_, s.line, s.column, e.message);
  }
  return Flow::normal;
}

void Evaluator::exec_set(const Stmt& s) {
  Value v = eval(*s.exprs[0]);
  if (s.attr_target) {
    Value ns = lookup(s.targets[0]);
    if (!ns.is_dict() || !ns.dict().is_namespace) {
      throw ValueError(ErrorKind::runtime, "cannot assign attribute on non-namespace object");
    }
    ns.dict().set(Value(s.targets[1]), std::move(v));
    return;
  }
  if (s.targets.size() == 1) {
    assign(s.targets[0], std::move(v));
    return;
  }
  List items = iterate(v);
  if (items.size() != s.targets.size()) {
    throw_type(items.size() > s.targets.size() ? "too many values to unpack"
                                               : "not enough values to unpack");
  }
  for (size_t i = 0; i < items.size(); ++i) assign(s.targets[i], items[i]);
}

void Evaluator::exec_for(const Stmt& s, std::string& out) { run_loop(s, eval(*s.exprs[0]), 1, out); }

// One pass of a for-loop over seq at a depth (1 for the loop itself; a `recursive` loop's body
// calls loop(items) to run it again one level deeper, as jinja2's LoopContext.__call__ does).
void Evaluator::run_loop(const Stmt& s, const Value& seq, int64_t depth, std::string& out) {
  List all = iterate(seq);
  auto loop_frame = std::make_shared<Frame>();
  loop_frame->parent = frame_;
  FramePtr saved = frame_;
  frame_ = loop_frame;
  auto bind = [&](const Value& item) {
    if (s.targets.size() == 1) {
      loop_frame->vars[s.targets[0]] = item;
      return;
    }
    List parts = iterate(item);
    if (parts.size() != s.targets.size()) {
      throw_type(parts.size() > s.targets.size() ? "too many values to unpack" : "not enough values to unpack");
    }
    for (size_t i = 0; i < parts.size(); ++i) loop_frame->vars[s.targets[i]] = parts[i];
  };
  try {
    List items;
    if (s.exprs[1]) {
      for (const Value& item : all) {
        step();
        bind(item);
        if (eval(*s.exprs[1]).truthy()) items.push_back(item);
      }
    } else {
      items = std::move(all);
    }
    // One loop object per loop, updated in place: an iteration costs no allocation.
    const auto n = static_cast<int64_t>(items.size());
    auto index = std::make_shared<int64_t>(0);
    Value loop = Value::make_dict();
    Dict& d = loop.dict();
    const char* const keys[] = {"index", "index0", "revindex", "revindex0", "first", "last",
                                "length", "depth", "depth0", "previtem", "nextitem", "cycle"};
    for (const char* k : keys) d.set(Value(k), Value());
    d.items[6].second = Value(n);
    d.items[7].second = Value(depth);
    d.items[8].second = Value(depth - 1);
    if (s.recursive) {
      const Stmt* loop_stmt = &s;
      d.set(Value("__call__"), Value::native("loop", [loop_stmt, depth](Evaluator& ev, CallArgs& a) -> Value {
        if (a.args.size() != 1 || !a.kwargs.empty()) throw_type("loop() takes exactly one iterable");
        if (ev.call_depth_ >= ev.limits_.max_call_depth) {
          throw_budget("recursive loop calls nested deeper than " + std::to_string(ev.limits_.max_call_depth) + " (recursion limit)");
        }
        ++ev.call_depth_;
        std::string inner;
        try {
          ev.run_loop(*loop_stmt, a.args[0], depth + 1, inner);
        } catch (...) {
          --ev.call_depth_;
          throw;
        }
        --ev.call_depth_;
        return Value(std::move(inner));
      }));
    }
    d.items[11].second = Value::native("cycle", [index](Evaluator&, CallArgs& a) -> Value {
      if (a.args.empty()) throw_type("no items for cycling given");
      return a.args[static_cast<size_t>(*index) % a.args.size()];
    });
    loop_frame->vars["loop"] = loop;
    for (int64_t i = 0; i < n; ++i) {
      step(2);
      bind(items[static_cast<size_t>(i)]);
      *index = i;
      d.items[0].second = Value(i + 1);
      d.items[1].second = Value(i);
      d.items[2].second = Value(n - i);
      d.items[3].second = Value(n - i - 1);
      d.items[4].second = Value(i == 0);
      d.items[5].second = Value(i == n - 1);
      d.items[9].second = i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item");
      d.items[10].second = i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item");
      if (exec_body(s.bodies[0], out) == Flow::break_) break;
    }
    if (n == 0 && s.bodies.size() > 1) {
      loop_frame->vars.erase("loop");
      exec_body(s.bodies[1], out);
    }
  } catch (...) {
    frame_ = saved;
    throw;
  }
  frame_ = saved;
}

Value Evaluator::call_macro(const Macro& m, CallArgs& args) {
  if (call_depth_ >= limits_.max_call_depth) {
    throw_budget(std::string("macro calls nested deeper than ") + std::to_string(limits_.max_call_depth) + " (recursion limit)");
  }
  const Stmt& def = *m.def;
  auto f = std::make_shared<Frame>();
  f->parent = m.closure;
  FramePtr saved = frame_;
  frame_ = f;
  ++call_depth_;
  std::string out;
  try {
    List varargs;
    for (size_t i = 0; i < args.args.size(); ++i) {
      if (i < def.params.size()) {
        f->vars[def.params[i]] = args.args[i];
      } else {
        varargs.push_back(args.args[i]);
      }
    }
    Value kwargs = Value::make_dict();
    for (auto& [k, v] : args.kwargs) {
      bool is_param = false;
      for (size_t i = 0; i < def.params.size(); ++i) {
        if (def.params[i] == k) {
          if (i < args.args.size()) throw_type(std::string("macro '") + m.name + "' got multiple values for argument '" + k + "'");
          f->vars[k] = v;
          is_param = true;
        }
      }
      if (is_param) continue;
      if (k == "caller") {
        f->vars["caller"] = v;
      } else {
        kwargs.dict().set(Value(k), v);
      }
    }
    for (size_t i = 0; i < def.params.size(); ++i) {
      if (f->vars.count(def.params[i]) != 0) continue;
      const Expr* d = def.exprs.size() > m.default_offset + i ? def.exprs[m.default_offset + i].get() : nullptr;
      f->vars[def.params[i]] =
          d != nullptr ? eval(*d) : Value::undefined(std::string("parameter '") + def.params[i] + "' was not provided");
    }
    f->vars["varargs"] = Value::make_list(std::move(varargs));
    f->vars["kwargs"] = std::move(kwargs);
    exec_body(def.bodies[0], out);
  } catch (...) {
    frame_ = saved;
    --call_depth_;
    throw;
  }
  frame_ = saved;
  --call_depth_;
  return Value(std::move(out));
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
  if (callee.is_function()) return callee.function().call(*this, args);
  if (callee.is_dict()) {  // a recursive loop's `loop`
    if (const Value* f = callee.dict().find(std::string_view("__call__")); f != nullptr && f->is_function()) {
      return f->function().call(*this, args);
    }
  }
  if (callee.is_undefined()) throw_undefined(callee.undefined_hint().empty() ? "undefined value called" : callee.undefined_hint());
  throw_type(fmt::format("'{}' object is not callable", callee.type_name()));
}

Value Evaluator::apply_filter(const std::string& name, const Value& v, CallArgs& args) {
  const FilterFn* f = find_filter(name);
  if (f == nullptr) throw ValueError(ErrorKind::runtime, std::string("no filter named '") + name + "'");
  return (*f)(*this, v, args);
}

bool Evaluator::apply_test(const std::string& name, const Value& v, CallArgs& args) {
  const TestFn* t = find_test(name);
  if (t == nullptr) throw ValueError(ErrorKind::runtime, std::string("no test named '") + name + "'");
  return (*t)(*this, v, args);
}

// ---- expressions

Value Evaluator::eval(const Expr& e) {
  step();
  DepthGuard guard(depth_);
  try {
    return eval_inner(e);
  } catch (const ValueError& err) {
    fail_at(e, err.kind, err.message);
  }
}

void Evaluator::collect_args(const Expr& e, size_t first, CallArgs& args) {
  for (size_t i = first; i < e.args.size(); ++i) args.args.push_back(eval(*e.args[i]));
  for (const auto& [k, v] : e.kwargs) args.kwargs.emplace_back(k, eval(*v));
}

Value Evaluator::eval_call(const Expr& e) {
  const Expr& callee_expr = *e.args[0];
  Value callee = eval(callee_expr);
  CallArgs args;
  collect_args(e, 1, args);
  if (callee.is_undefined() && callee_expr.kind == ExprKind::name) {
    throw_undefined(std::string("'") + callee_expr.name + "' is undefined");
  }
  return call(callee, args);
}

Value Evaluator::eval_compare(const Expr& e) {
  Value left = eval(*e.args[0]);
  for (size_t i = 0; i < e.ops.size(); ++i) {
    Value right = eval(*e.args[i + 1]);
    const std::string& op = e.ops[i];
    bool r;
    if (op == "==") {
      r = equals(left, right);
    } else if (op == "!=") {
      r = !equals(left, right);
    } else if (op == "in") {
      r = contains(right, left);
    } else if (op == "not in") {
      r = !contains(right, left);
    } else {
      for (const Value* v : {&left, &right}) {
        if (v->is_undefined()) throw_undefined(v->undefined_hint());
      }
      const int c = compare(left, right);
      r = op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0;
    }
    if (!r) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

Value Evaluator::eval_inner(const Expr& e) {
  switch (e.kind) {
    case ExprKind::constant: return e.constant;
    case ExprKind::name: return lookup(e.name);
    case ExprKind::list:
    case ExprKind::tuple: {
      List items;
      items.reserve(e.args.size());
      for (const auto& a : e.args) items.push_back(eval(*a));
      return Value::make_list(std::move(items));
    }
    case ExprKind::dict: {
      Value d = Value::make_dict();
      for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
        Value k = eval(*e.args[i]);
        d.dict().set(k, eval(*e.args[i + 1]));
      }
      return d;
    }
    case ExprKind::getattr: return getattr(eval(*e.args[0]), e.name);
    case ExprKind::getitem: return getitem(eval(*e.args[0]), eval(*e.args[1]));
    case ExprKind::slice: {
      Value obj = eval(*e.args[0]);
      Value bounds[3];
      for (int i = 0; i < 3; ++i) bounds[i] = e.args[1 + i] ? eval(*e.args[1 + i]) : Value::none();
      return slice(obj, bounds[0], bounds[1], bounds[2]);
    }
    case ExprKind::call: return eval_call(e);
    case ExprKind::filter: {
      Value v = eval(*e.args[0]);
      CallArgs args;
      collect_args(e, 1, args);
      return apply_filter(e.name, v, args);
    }
    case ExprKind::test: {
      Value v = eval(*e.args[0]);
      CallArgs args;
      collect_args(e, 1, args);
      const bool r = apply_test(e.name, v, args);
      return Value(e.negated ? !r : r);
    }
    case ExprKind::logical_not: return Value(!eval(*e.args[0]).truthy());
    case ExprKind::negate:
    case ExprKind::plus: {
      Value v = eval(*e.args[0]);
      if (v.is_undefined()) throw_undefined(v.undefined_hint());
      if (!v.is_number()) throw_type(std::string("bad operand type for unary ") + std::string(e.kind == ExprKind::negate ? "-" : "+") + ": '" + v.type_name() + "'");
      if (e.kind == ExprKind::plus) return v.is_bool() ? Value(v.as_int()) : v;
      if (v.is_float()) return Value(-v.as_double());
      if (v.as_int() == INT64_MIN) throw_type("integer overflow");
      return Value(-v.as_int());
    }
    case ExprKind::binary: {
      if (e.name == "and") {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
      }
      if (e.name == "or") {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
      }
      Value a = eval(*e.args[0]);
      Value b = eval(*e.args[1]);
      return binary_op(e.name, a, b);
    }
    case ExprKind::compare: return eval_compare(e);
    case ExprKind::cond:
      if (eval(*e.args[1]).truthy()) return eval(*e.args[0]);
      if (e.args[2]) return eval(*e.args[2]);
      return Value::undefined("the inline if-expression evaluated to false and no else section was defined");
  }
  return Value();
}

}  // namespace owl::chat
