// The syntax tree of a parsed template: one Expr struct for every expression node and one Stmt
// struct for every statement, each with its source position. Node kinds mirror jinja2.nodes.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/value.h"

namespace owl::chat {

enum class ExprKind {
  constant,  // constant
  name,      // name
  list,      // args = items
  tuple,     // args = items (a list at run time)
  dict,      // args = key, value, key, value, ...
  getattr,   // args[0] . name
  getitem,   // args[0] [ args[1] ]
  slice,     // args[0] [ args[1] : args[2] : args[3] ] (each bound may be null)
  call,      // args[0] ( args[1..], kwargs )
  filter,    // args[0] | name ( args[1..], kwargs ); args[0] null inside {% filter %}
  test,      // args[0] is [not] name ( args[1..], kwargs )
  logical_not,
  negate,
  plus,
  binary,    // args[0] name args[1]: + - * / // % ** ~ and or
  compare,   // args[0] ops[0] args[1] ops[1] args[2] ...
  cond,      // args[0] if args[1] else args[2] (args[2] may be null)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  ExprKind kind = ExprKind::constant;
  int line = 0;
  int column = 0;
  std::string name;
  Value constant;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;
};

enum class StmtKind {
  text,          // text
  output,        // exprs[0]
  if_,           // exprs = conditions; bodies = one per condition, plus else when present
  for_,          // targets; exprs[0] iterable, exprs[1] filter (may be null); bodies[0] body, [1] else
  set,           // targets (names, or {ns, attr} when attr_target); exprs[0]
  set_block,     // targets[0]; exprs[0] filter chain (may be null); bodies[0]
  macro,         // name; params; exprs = defaults (null for none); bodies[0]
  call_block,    // exprs[0] the call; params; bodies[0] the caller body
  filter_block,  // exprs[0] filter chain with a null innermost value; bodies[0]
  with,          // targets; exprs = values; bodies[0]
  scope,         // bodies[0] ({% generation %}: rendered as if the tags were absent)
  break_,
  continue_,
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  StmtKind kind = StmtKind::text;
  int line = 0;
  int column = 0;
  std::string text;
  std::string name;
  std::vector<std::string> targets;
  bool attr_target = false;
  std::vector<std::string> params;
  std::vector<ExprPtr> exprs;
  std::vector<Body> bodies;
  bool recursive = false;
};

}  // namespace owl::chat
