// Recursive-descent parser for jinja2's template language (mirrors jinja2.parser: statements,
// parse_condexpr → or → and → not → compare → math1 → concat → math2 → pow → unary → primary,
// postfix, filters and tests), plus the compile-time filter/test name check.
#include "chat/parser.h"

#include <charconv>
#include <cstdlib>

#include "chat/error.h"

namespace owl::chat {

namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& t, const std::string& name) : t_(t), name_(name) {}

  Body parse_all() {
    Body body = parse_body({});
    if (cur().type != TokenType::eof) error(cur(), "unexpected token");
    return body;
  }

 private:
  // ---- token helpers
  const Token& cur() const { return t_[pos_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(pos_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& tok = t_[pos_];
    if (pos_ + 1 < t_.size()) ++pos_;
    return tok;
  }
  bool is_op(const char* op) const { return cur().type == TokenType::op && cur().value == op; }
  bool is_name(const char* n) const { return cur().type == TokenType::name && cur().value == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }
  // The message, then what was found instead: the token as written, or the end of the template.
  [[noreturn]] void error(const Token& at, const std::string& msg) const {
    std::string what = msg;
    if (at.type == TokenType::eof) {
      what += " (unexpected end of template)";
    } else {
      what += " '" + spelling(at) + "'";
    }
    throw TemplateError(ErrorKind::syntax, name_, at.line, at.column, what);
  }
  static std::string spelling(const Token& t) {
    switch (t.type) {
      case TokenType::var_begin: return "{{";
      case TokenType::var_end: return "}}";
      case TokenType::block_begin: return "{%";
      case TokenType::block_end: return "%}";
      case TokenType::text: return t.value.size() > 20 ? t.value.substr(0, 20) + "..." : t.value;
      default: return t.value;
    }
  }
  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur(), std::string("expected '") + op + "', got");
  }
  std::string expect_name() {
    if (cur().type != TokenType::name) error(cur(), "expected a name, got");
    return next().value;
  }
  void expect_block_end() {
    if (cur().type != TokenType::block_end) error(cur(), "expected end of statement block '%}', got");
    next();
  }

  struct DepthGuard {
    DepthGuard(Parser& p, const Token& at) : p_(p) {
      if (++p_.depth_ > kMaxParseDepth) p_.error(at, "template nested too deeply");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  template <typename T>
  static std::unique_ptr<T> make(const Token& at) {
    auto n = std::make_unique<T>();
    n->line = at.line;
    n->column = at.column;
    return n;
  }

  // ---- statements
  // Parses until a block tag whose first name is in `ends` (left unconsumed, positioned at the name).
  Body parse_body(const std::vector<std::string>& ends) {
    Body body;
    while (true) {
      const Token& tok = cur();
      if (tok.type == TokenType::eof) {
        if (!ends.empty()) error(tok, std::string("missing {% ") + ends.back() + " %}");
        return body;
      }
      if (tok.type == TokenType::text) {
        auto s = make<Stmt>(tok);
        s->kind = StmtKind::text;
        s->text = tok.value;
        next();
        body.push_back(std::move(s));
      } else if (tok.type == TokenType::var_begin) {
        next();
        auto s = make<Stmt>(tok);
        s->kind = StmtKind::output;
        s->exprs.push_back(parse_tuple(true));
        if (cur().type != TokenType::var_end) error(cur(), "expected end of print statement '}}', got");
        next();
        body.push_back(std::move(s));
      } else if (tok.type == TokenType::block_begin) {
        const Token& kw = peek();
        if (kw.type == TokenType::name) {
          for (const auto& e : ends)
            if (kw.value == e) {
              next();  // block_begin; the caller consumes the name
              return body;
            }
        }
        next();
        body.push_back(parse_statement(kw, ends));
      } else {
        error(tok, "unexpected token");
      }
    }
  }

  StmtPtr parse_statement(const Token& kw, const std::vector<std::string>& ends) {
    DepthGuard guard(*this, kw);
    if (kw.type != TokenType::name) error(kw, "expected a statement name, got");
    const std::string word = next().value;
    auto s = make<Stmt>(kw);
    if (word == "if") return parse_if(std::move(s));
    if (word == "for") return parse_for(std::move(s));
    if (word == "set") return parse_set(std::move(s));
    if (word == "macro") return parse_macro(std::move(s));
    if (word == "call") return parse_call_block(std::move(s));
    if (word == "filter") return parse_filter_block(std::move(s));
    if (word == "with") return parse_with(std::move(s));
    if (word == "generation") {
      s->kind = StmtKind::scope;
      expect_block_end();
      s->bodies.push_back(parse_end_body({"endgeneration"}));
      return s;
    }
    if (word == "break" || word == "continue") {
      if (loop_depth_ == 0) error(kw, std::string("'") + word + "' outside of a loop");
      s->kind = word == "break" ? StmtKind::break_ : StmtKind::continue_;
      expect_block_end();
      return s;
    }
    std::string msg = std::string("encountered unknown tag '") + word + "'";
    if (!ends.empty()) msg += "; expected one of:";
    for (const auto& e : ends) msg += std::string(" '") + e + "'";
    throw TemplateError(ErrorKind::syntax, name_, kw.line, kw.column, msg);
  }

  // Body up to one of ends; consumes "{% end... %}" fully when the end is the first of ends.
  Body parse_end_body(const std::vector<std::string>& ends) {
    Body b = parse_body(ends);
    next();  // the end name
    expect_block_end();
    return b;
  }

  StmtPtr parse_if(StmtPtr s) {
    s->kind = StmtKind::if_;
    s->exprs.push_back(parse_tuple(true));
    expect_block_end();
    while (true) {
      s->bodies.push_back(parse_body({"elif", "else", "endif"}));
      const std::string which = next().value;
      if (which == "elif") {
        s->exprs.push_back(parse_tuple(true));
        expect_block_end();
      } else if (which == "else") {
        expect_block_end();
        s->bodies.push_back(parse_end_body({"endif"}));
        return s;
      } else {
        expect_block_end();
        return s;
      }
    }
  }

  void parse_targets(Stmt& s) {
    const bool paren = skip_op("(");
    s.targets.push_back(expect_name());
    while (skip_op(",")) {
      if (cur().type != TokenType::name) break;
      s.targets.push_back(expect_name());
    }
    if (paren) expect_op(")");
  }

  StmtPtr parse_for(StmtPtr s) {
    s->kind = StmtKind::for_;
    parse_targets(*s);
    if (!skip_name("in")) error(cur(), "expected 'in', got");
    s->exprs.push_back(parse_tuple(false));
    ExprPtr filter;
    if (skip_name("if")) filter = parse_expression(true);
    s->exprs.push_back(std::move(filter));
    if (skip_name("recursive")) s->recursive = true;
    expect_block_end();
    ++loop_depth_;
    s->bodies.push_back(parse_body({"else", "endfor"}));
    --loop_depth_;
    const std::string which = next().value;
    expect_block_end();
    if (which == "else") s->bodies.push_back(parse_end_body({"endfor"}));
    return s;
  }

  StmtPtr parse_set(StmtPtr s) {
    s->kind = StmtKind::set;
    s->targets.push_back(expect_name());
    if (skip_op(".")) {
      s->attr_target = true;
      s->targets.push_back(expect_name());
    } else {
      while (skip_op(",")) s->targets.push_back(expect_name());
    }
    if (skip_op("=")) {
      s->exprs.push_back(parse_tuple(true));
      expect_block_end();
      return s;
    }
    if (s->attr_target || s->targets.size() != 1) error(cur(), "expected '=' after the set target, got");
    s->kind = StmtKind::set_block;
    ExprPtr chain;
    while (skip_op("|")) chain = parse_filter(std::move(chain));
    s->exprs.push_back(std::move(chain));
    expect_block_end();
    s->bodies.push_back(parse_end_body({"endset"}));
    return s;
  }

  void parse_signature(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (is_op(")")) break;
      s.params.push_back(expect_name());
      s.exprs.push_back(skip_op("=") ? parse_expression(true) : nullptr);
    }
    expect_op(")");
  }

  StmtPtr parse_macro(StmtPtr s) {
    s->kind = StmtKind::macro;
    s->name = expect_name();
    parse_signature(*s);
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_end_body({"endmacro"}));
    loop_depth_ = saved;
    return s;
  }

  StmtPtr parse_call_block(StmtPtr s) {
    s->kind = StmtKind::call_block;
    std::vector<ExprPtr> defaults;
    if (is_op("(")) {
      parse_signature(*s);
      defaults = std::move(s->exprs);
      s->exprs.clear();
    }
    ExprPtr call = parse_expression(true);
    if (call->kind != ExprKind::call) error(cur(), "expected a call after {% call %}");
    s->exprs.push_back(std::move(call));
    for (auto& d : defaults) s->exprs.push_back(std::move(d));
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->bodies.push_back(parse_end_body({"endcall"}));
    loop_depth_ = saved;
    return s;
  }

  StmtPtr parse_filter_block(StmtPtr s) {
    s->kind = StmtKind::filter_block;
    ExprPtr chain = parse_filter(nullptr);
    while (skip_op("|")) chain = parse_filter(std::move(chain));
    s->exprs.push_back(std::move(chain));
    expect_block_end();
    s->bodies.push_back(parse_end_body({"endfilter"}));
    return s;
  }

  StmtPtr parse_with(StmtPtr s) {
    s->kind = StmtKind::with;
    while (cur().type != TokenType::block_end) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(expect_name());
      expect_op("=");
      s->exprs.push_back(parse_expression(true));
    }
    expect_block_end();
    s->bodies.push_back(parse_end_body({"endwith"}));
    return s;
  }

  // ---- expressions
  ExprPtr node(ExprKind k, const Token& at) {
    auto e = make<Expr>(at);
    e->kind = k;
    return e;
  }
  ExprPtr binary(const Token& at, std::string op, ExprPtr a, ExprPtr b) {
    auto e = node(ExprKind::binary, at);
    e->name = std::move(op);
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  // A bare tuple "a, b" (as in {{ a, b }} or {% set x = a, b %}); with_cond false for for-loops.
  ExprPtr parse_tuple(bool with_cond) {
    const Token& at = cur();
    ExprPtr first = with_cond ? parse_expression(true) : parse_or();
    if (!is_op(",")) return first;
    auto t = node(ExprKind::tuple, at);
    t->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (cur().type == TokenType::block_end || cur().type == TokenType::var_end || is_name("if")) break;
      t->args.push_back(with_cond ? parse_expression(true) : parse_or());
    }
    return t;
  }

  ExprPtr parse_expression(bool with_cond) {
    DepthGuard guard(*this, cur());
    if (!with_cond) return parse_or();
    ExprPtr e = parse_or();
    while (is_name("if")) {
      const Token& at = next();
      auto c = node(ExprKind::cond, at);
      c->args.push_back(std::move(e));
      c->args.push_back(parse_or());
      c->args.push_back(skip_name("else") ? parse_expression(true) : nullptr);
      e = std::move(c);
    }
    return e;
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const Token& at = next();
      e = binary(at, "or", std::move(e), parse_and());
    }
    return e;
  }
  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const Token& at = next();
      e = binary(at, "and", std::move(e), parse_not());
    }
    return e;
  }
  ExprPtr parse_not() {
    if (is_name("not")) {
      const Token& at = next();
      DepthGuard guard(*this, at);
      auto n = node(ExprKind::logical_not, at);
      n->args.push_back(parse_not());
      return n;
    }
    return parse_compare();
  }
  ExprPtr parse_compare() {
    const Token& at = cur();
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().type == TokenType::op &&
          (is_op("==") || is_op("!=") || is_op("<") || is_op(">") || is_op("<=") || is_op(">="))) {
        op = next().value;
      } else if (is_name("in")) {
        next();
        op = "in";
      } else if (is_name("not") && peek().type == TokenType::name && peek().value == "in") {
        next();
        next();
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::compare, at);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? std::move(cmp) : std::move(first);
  }
  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const Token& at = next();
      e = binary(at, at.value, std::move(e), parse_concat());
    }
    return e;
  }
  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const Token& at = next();
      e = binary(at, "~", std::move(e), parse_math2());
    }
    return e;
  }
  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const Token& at = next();
      e = binary(at, at.value, std::move(e), parse_pow());
    }
    return e;
  }
  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {
      const Token& at = next();
      e = binary(at, "**", std::move(e), parse_unary(true));
    }
    return e;
  }
  ExprPtr parse_unary(bool with_filter) {
    const Token& at = cur();
    DepthGuard guard(*this, at);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      next();
      e = node(at.value == "-" ? ExprKind::negate : ExprKind::plus, at);
      e->args.push_back(parse_unary(false));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr constant(const Token& at, Value v) {
    auto e = node(ExprKind::constant, at);
    e->constant = std::move(v);
    return e;
  }

  ExprPtr parse_primary() {
    const Token& at = cur();
    switch (at.type) {
      case TokenType::name: {
        next();
        const std::string& n = at.value;
        if (n == "true" || n == "True") return constant(at, Value(true));
        if (n == "false" || n == "False") return constant(at, Value(false));
        if (n == "none" || n == "None") return constant(at, Value::none());
        auto e = node(ExprKind::name, at);
        e->name = n;
        return e;
      }
      case TokenType::string: {
        std::string s = next().value;
        while (cur().type == TokenType::string) s += next().value;
        return constant(at, Value(std::move(s)));
      }
      case TokenType::integer: {
        next();
        int64_t v = 0;
        auto r = std::from_chars(at.value.data(), at.value.data() + at.value.size(), v);
        if (r.ec != std::errc()) return constant(at, Value(std::strtod(at.value.c_str(), nullptr)));
        return constant(at, Value(v));
      }
      case TokenType::floating: next(); return constant(at, Value(std::strtod(at.value.c_str(), nullptr)));
      case TokenType::op:
        if (at.value == "(") {
          next();
          if (skip_op(")")) return node(ExprKind::tuple, at);
          ExprPtr first = parse_expression(true);
          if (skip_op(")")) return first;
          auto t = node(ExprKind::tuple, at);
          t->args.push_back(std::move(first));
          while (skip_op(",")) {
            if (is_op(")")) break;
            t->args.push_back(parse_expression(true));
          }
          expect_op(")");
          return t;
        }
        if (at.value == "[") {
          next();
          auto l = node(ExprKind::list, at);
          while (!is_op("]")) {
            if (!l->args.empty()) expect_op(",");
            if (is_op("]")) break;
            l->args.push_back(parse_expression(true));
          }
          expect_op("]");
          return l;
        }
        if (at.value == "{") {
          next();
          auto d = node(ExprKind::dict, at);
          while (!is_op("}")) {
            if (!d->args.empty()) expect_op(",");
            if (is_op("}")) break;
            d->args.push_back(parse_expression(true));
            expect_op(":");
            d->args.push_back(parse_expression(true));
          }
          expect_op("}");
          return d;
        }
        break;
      default: break;
    }
    error(at, "expected an expression, got");
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const Token& at = next();
        auto g = node(ExprKind::getattr, at);
        if (cur().type == TokenType::name) {
          g->name = next().value;
        } else if (cur().type == TokenType::integer) {
          g->kind = ExprKind::getitem;
          g->args.push_back(std::move(e));
          g->args.push_back(constant(cur(), Value(static_cast<int64_t>(std::atoll(next().value.c_str())))));
          e = std::move(g);
          continue;
        } else {
          error(cur(), "expected a name after '.', got");
        }
        g->args.push_back(std::move(e));
        e = std::move(g);
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const Token& at = next();  // [
    ExprPtr bounds[3];
    bool is_slice = false;
    int part = 0;
    while (!is_op("]")) {
      if (skip_op(":")) {
        is_slice = true;
        if (++part > 2) error(cur(), "too many ':' in slice");
        continue;
      }
      if (bounds[part]) error(cur(), "expected ']' or ':', got");
      bounds[part] = parse_expression(true);
      if (!is_slice && is_op(",")) {  // d[a, b]: a tuple key
        auto t = node(ExprKind::tuple, at);
        t->args.push_back(std::move(bounds[0]));
        while (skip_op(",")) {
          if (is_op("]")) break;
          t->args.push_back(parse_expression(true));
        }
        bounds[0] = std::move(t);
      }
    }
    next();  // ]
    if (!is_slice) {
      if (!bounds[0]) error(at, "expected an index in '[]'");
      auto g = node(ExprKind::getitem, at);
      g->args.push_back(std::move(obj));
      g->args.push_back(std::move(bounds[0]));
      return g;
    }
    auto s = node(ExprKind::slice, at);
    s->args.push_back(std::move(obj));
    for (auto& b : bounds) s->args.push_back(std::move(b));
    return s;
  }

  void parse_call_args(Expr& call) {
    expect_op("(");
    bool first = true;
    while (!is_op(")")) {
      if (!first) expect_op(",");
      first = false;
      if (is_op(")")) break;
      if (cur().type == TokenType::name && peek().type == TokenType::op && peek().value == "=") {
        std::string key = next().value;
        next();
        call.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (is_op("*") || is_op("**")) error(cur(), "argument unpacking is not supported:");
        if (!call.kwargs.empty()) error(cur(), "positional argument follows keyword argument:");
        call.args.push_back(parse_expression(true));
      }
    }
    next();  // )
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto c = node(ExprKind::call, cur());
    c->line = callee->line;  // errors point at the start of the call, not at its "("
    c->column = callee->column;
    c->args.push_back(std::move(callee));
    parse_call_args(*c);
    return c;
  }

  ExprPtr parse_filter(ExprPtr value) {
    const Token& at = cur();
    auto f = node(ExprKind::filter, at);
    f->name = expect_name();
    while (is_op(".") && peek().type == TokenType::name) {
      next();
      f->name += std::string(".") + next().value;
    }
    f->args.push_back(std::move(value));
    if (is_op("(")) parse_call_args(*f);
    return f;
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (skip_op("|")) {
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        const Token& at = next();
        auto t = node(ExprKind::test, at);
        t->negated = skip_name("not");
        t->name = expect_name();
        while (is_op(".") && peek().type == TokenType::name) {
          next();
          t->name += std::string(".") + next().value;
        }
        t->args.push_back(std::move(e));
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((cur().type == TokenType::name || cur().type == TokenType::string ||
                    cur().type == TokenType::integer || cur().type == TokenType::floating || is_op("[") ||
                    is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          if (is_name("is")) error(cur(), "you cannot chain multiple tests with");
          t->args.push_back(parse_postfix(parse_primary()));
        }
        e = std::move(t);
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  const std::vector<Token>& t_;
  const std::string& name_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;
};

class NameChecker {
 public:
  NameChecker(const std::function<bool(const std::string&)>& f, const std::function<bool(const std::string&)>& t,
              const std::string& name)
      : is_filter_(f), is_test_(t), name_(name) {}

  void body(const Body& b, bool soft) {
    for (const auto& s : b) stmt(*s, soft);
  }

 private:
  void stmt(const Stmt& s, bool soft) {
    switch (s.kind) {
      case StmtKind::if_:
        for (const auto& e : s.exprs) expr(e.get(), true);
        for (const auto& b : s.bodies) body(b, true);
        return;
      case StmtKind::scope:
        for (const auto& e : s.exprs) expr(e.get(), soft);
        for (const auto& b : s.bodies) body(b, soft);
        return;
      case StmtKind::for_:
      case StmtKind::set:
      case StmtKind::with:
      case StmtKind::output:
        for (const auto& e : s.exprs) expr(e.get(), soft);
        for (const auto& b : s.bodies) body(b, false);
        return;
      default:
        for (const auto& e : s.exprs) expr(e.get(), soft);
        for (const auto& b : s.bodies) body(b, false);
        return;
    }
  }

  void expr(const Expr* e, bool soft) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::cond) soft = true;
    if (!soft && e->kind == ExprKind::filter && !is_filter_(e->name)) {
      throw TemplateError(ErrorKind::syntax, name_, e->line, e->column, std::string("no filter named '") + e->name + "'");
    }
    if (!soft && e->kind == ExprKind::test && !is_test_(e->name)) {
      throw TemplateError(ErrorKind::syntax, name_, e->line, e->column, std::string("no test named '") + e->name + "'");
    }
    for (const auto& a : e->args) expr(a.get(), soft);
    for (const auto& [k, a] : e->kwargs) expr(a.get(), soft);
  }

  const std::function<bool(const std::string&)>& is_filter_;
  const std::function<bool(const std::string&)>& is_test_;
  const std::string& name_;
};

}  // namespace

Body parse_template(const std::vector<Token>& tokens, const std::string& template_name) {
  Parser p(tokens, template_name);
  return p.parse_all();
}

void check_names(const Body& body, const std::function<bool(const std::string&)>& is_filter,
                 const std::function<bool(const std::string&)>& is_test, const std::string& template_name) {
  NameChecker(is_filter, is_test, template_name).body(body, false);
}

}  // namespace owl::chat
