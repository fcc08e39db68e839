// The parser of the template engine: tokens → syntax tree, with jinja2's grammar and operator
// precedence (jinja2.parser.Parser). Syntax errors are TemplateError(syntax) with line and column.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "chat/ast.h"
#include "chat/lexer.h"

namespace owl::chat {

// Nesting limit for expressions and statements, so a hostile template cannot overflow the stack.
constexpr int kMaxParseDepth = 128;

Body parse_template(const std::vector<Token>& tokens, const std::string& template_name);

// jinja2 resolves filters and tests when it compiles a template: an unknown name is an error then,
// unless it sits inside an {% if %} branch or a conditional expression (a "soft" frame), where it
// fails only when evaluated. Throws TemplateError(syntax) for the first hard unknown name.
void check_names(const Body& body, const std::function<bool(const std::string&)>& is_filter,
                 const std::function<bool(const std::string&)>& is_test, const std::string& template_name);

}  // namespace owl::chat
