// The lexer of the template engine: splits template source into text and tag tokens, applying
// jinja2's whitespace control (trim_blocks, lstrip_blocks, "-" and "+" markers) as transformers
// configures it. Mirrors jinja2.lexer (Lexer.tokeniter) behaviour, not its code.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace owl::chat {

enum class TokenType { text, var_begin, var_end, block_begin, block_end, name, string, integer, floating, op, eof };

struct Token {
  TokenType type;
  std::string value;  // text, name, decoded string literal, number spelling or operator
  int line = 1;
  int column = 1;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws TemplateError(syntax) with line and column for unterminated tags, strings and comments.
std::vector<Token> tokenize(std::string_view source, const LexOptions& options, const std::string& template_name);

}  // namespace owl::chat
