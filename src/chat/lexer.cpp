// Template lexer (see lexer.h). Newlines are normalised to "\n" and one trailing newline is dropped
// first, as jinja2 does; tags are tokenized with a bracket balance so "}}" inside a dict literal
// does not end a {{ ... }} tag.
#include "chat/lexer.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "chat/error.h"
#include "chat/text.h"

namespace owl::chat {

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  Lexer(std::string src, const LexOptions& o, const std::string& name) : src_(std::move(src)), o_(o), name_(name) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  std::vector<Token> run() {
    size_t pos = 0;
    bool strip_next = false;  // the previous tag ended with "-": drop leading whitespace
    while (pos < src_.size()) {
      size_t open = find_open(pos);
      std::string data = src_.substr(pos, (open == std::string::npos ? src_.size() : open) - pos);
      if (strip_next) {
        size_t k = 0;
        while (k < data.size() && is_ws(data[k])) ++k;
        data.erase(0, k);
        strip_next = false;
      }
      if (open == std::string::npos) {
        emit_text(std::move(data), pos);
        break;
      }
      const char kind = src_[open + 1];  // '{', '%' or '#'
      const char marker = open + 2 < src_.size() ? src_[open + 2] : '\0';
      if (marker == '-') {
        size_t k = data.size();
        while (k > 0 && is_ws(data[k - 1])) --k;
        data.resize(k);
      } else if (marker != '+' && kind != '{' && o_.lstrip_blocks) {
        size_t k = data.size();
        while (k > 0 && (data[k - 1] == ' ' || data[k - 1] == '\t')) --k;
        const size_t abs = open - (data.size() - k);  // where the run of blanks starts in the source
        if (abs == 0 || src_[abs - 1] == '\n') data.resize(k);
      }
      emit_text(std::move(data), pos);
      size_t inner = open + 2 + ((marker == '-' || marker == '+') ? 1 : 0);
      if (kind == '#') {
        pos = lex_comment(open, inner, strip_next);
      } else if (kind == '%' && try_raw(open, inner, pos, strip_next)) {
        // raw block consumed
      } else {
        pos = lex_tag(open, inner, kind == '%', strip_next);
      }
    }
    tokens_.push_back({TokenType::eof, "", line_of(src_.size()), col_of(src_.size())});
    return std::move(tokens_);
  }

 private:
  size_t find_open(size_t pos) const {
    for (size_t i = pos; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  int line_of(size_t off) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), off);
    return static_cast<int>(it - line_starts_.begin());
  }
  // Column in code points. Tokens come in source order, so a cursor makes this linear overall.
  int col_of(size_t off) const {
    const size_t start = line_starts_[static_cast<size_t>(line_of(off) - 1)];
    if (cursor_off_ < start || cursor_off_ > off) {
      cursor_off_ = start;
      cursor_col_ = 1;
    }
    cursor_col_ += static_cast<int>(text::count_code_points(std::string_view(src_).substr(cursor_off_, off - cursor_off_)));
    cursor_off_ = off;
    return cursor_col_;
  }

  [[noreturn]] void error(size_t off, const std::string& msg) const {
    throw TemplateError(ErrorKind::syntax, name_, line_of(off), col_of(off), msg);
  }

  void emit_text(std::string data, size_t off) {
    if (data.empty()) return;
    tokens_.push_back({TokenType::text, std::move(data), line_of(off), col_of(off)});
  }

  void push(TokenType t, std::string v, size_t off) { tokens_.push_back({t, std::move(v), line_of(off), col_of(off)}); }

  // After "%}" or "#}": trim_blocks drops one newline unless the tag ended with "+".
  size_t after_block_end(size_t end, bool plus) const {
    if (o_.trim_blocks && !plus && end < src_.size() && src_[end] == '\n') return end + 1;
    return end;
  }

  size_t lex_comment(size_t open, size_t inner, bool& strip_next) {
    const size_t close = src_.find("#}", inner);
    if (close == std::string::npos) error(open, "missing end of comment tag");
    const char before = close > inner ? src_[close - 1] : '\0';
    strip_next = before == '-';
    return after_block_end(close + 2, before == '+');
  }

  bool try_raw(size_t open, size_t inner, size_t& pos, bool& strip_next) {
    size_t p = inner;
    while (p < src_.size() && is_ws(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    while (p < src_.size() && is_ws(src_[p])) ++p;
    bool minus = false;
    if (p < src_.size() && (src_[p] == '-' || src_[p] == '+')) minus = src_[p++] == '-';
    if (src_.compare(p, 2, "%}") != 0) return false;
    size_t body = p + 2;
    if (minus) {
      while (body < src_.size() && is_ws(src_[body])) ++body;
    } else {
      body = after_block_end(body, false);
    }
    // Find {% endraw %} with optional markers.
    for (size_t q = src_.find("{%", body); q != std::string::npos; q = src_.find("{%", q + 2)) {
      size_t r = q + 2;
      const bool lminus = r < src_.size() && src_[r] == '-';
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) ++r;
      while (r < src_.size() && is_ws(src_[r])) ++r;
      if (src_.compare(r, 6, "endraw") != 0) continue;
      r += 6;
      while (r < src_.size() && is_ws(src_[r])) ++r;
      bool rminus = false, rplus = false;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) {
        rminus = src_[r] == '-';
        rplus = src_[r] == '+';
        ++r;
      }
      if (src_.compare(r, 2, "%}") != 0) continue;
      std::string data = src_.substr(body, q - body);
      if (lminus) {
        size_t k = data.size();
        while (k > 0 && is_ws(data[k - 1])) --k;
        data.resize(k);
      }
      emit_text(std::move(data), body);
      strip_next = rminus;
      pos = after_block_end(r + 2, rplus);
      return true;
    }
    error(open, "missing {% endraw %} for {% raw %}");
  }

  size_t lex_tag(size_t open, size_t p, bool block, bool& strip_next) {
    push(block ? TokenType::block_begin : TokenType::var_begin, "", open);
    int balance = 0;
    while (true) {
      while (p < src_.size() && is_ws(src_[p])) ++p;
      if (p >= src_.size()) error(open, block ? "unexpected end of template: missing '%}'" : "unexpected end of template: missing '}}'");
      const char c = src_[p];
      const char* end = block ? "%}" : "}}";
      if (balance == 0) {
        const bool marked = (c == '-' || c == '+') && src_.compare(p + 1, 2, end) == 0;
        if (marked || src_.compare(p, 2, end) == 0) {
          push(block ? TokenType::block_end : TokenType::var_end, "", p);
          const size_t after = p + (marked ? 3 : 2);
          strip_next = marked && c == '-';
          return block ? after_block_end(after, marked && c == '+') : after;
        }
      }
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t q = p;
        while (q < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[q])) || src_[q] == '_')) ++q;
        push(TokenType::name, src_.substr(p, q - p), p);
        p = q;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        p = lex_number(p);
      } else if (c == '\'' || c == '"') {
        p = lex_string(p);
      } else {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* t : two)
          if (src_.compare(p, 2, t) == 0) op = t;
        if (op.empty()) {
          if (std::strchr("+-*/%~<>=()[]{},.:|;!", c) == nullptr || c == '\0') {
            error(p, std::string("unexpected char '") + c + "'");
          }
          if (c == '!') error(p, "unexpected char '!'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++balance;
        if (op == ")" || op == "]" || op == "}") {
          if (balance == 0) error(p, std::string("unexpected '") + op + "'");
          --balance;
        }
        push(TokenType::op, op, p);
        p += op.size();
      }
    }
  }

  size_t lex_number(size_t p) {
    size_t q = p;
    auto digits = [&] {
      while (q < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[q])) || src_[q] == '_')) ++q;
    };
    digits();
    bool is_float = false;
    if (q + 1 < src_.size() && src_[q] == '.' && std::isdigit(static_cast<unsigned char>(src_[q + 1]))) {
      is_float = true;
      ++q;
      digits();
    }
    if (q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
      size_t r = q + 1;
      if (r < src_.size() && (src_[r] == '+' || src_[r] == '-')) ++r;
      if (r < src_.size() && std::isdigit(static_cast<unsigned char>(src_[r]))) {
        is_float = true;
        q = r;
        digits();
      }
    }
    std::string spelled;
    for (size_t i = p; i < q; ++i)
      if (src_[i] != '_') spelled += src_[i];
    push(is_float ? TokenType::floating : TokenType::integer, spelled, p);
    return q;
  }

  size_t lex_string(size_t p) {
    const char quote = src_[p];
    std::string out;
    size_t q = p + 1;
    while (true) {
      if (q >= src_.size()) error(p, "unexpected end of string");
      const char c = src_[q];
      if (c == quote) break;
      if (c != '\\') {
        out += c;
        ++q;
        continue;
      }
      if (q + 1 >= src_.size()) error(p, "unexpected end of string");
      const char e = src_[q + 1];
      q += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case 'a': out += '\a'; break;
        case '0': out += '\0'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          if (q + n > src_.size()) error(q, std::string("truncated \\") + std::string(1, e) + " escape");
          char32_t cp = 0;
          for (size_t i = 0; i < n; ++i) {
            const char h = src_[q + i];
            if (!std::isxdigit(static_cast<unsigned char>(h))) error(q, std::string("truncated \\") + std::string(1, e) + " escape");
            cp = cp * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
          }
          if (cp > 0x10FFFF) error(q, "illegal Unicode character");
          text::append_utf8(out, cp);
          q += n;
          break;
        }
        default:
          out += '\\';
          out += e;
      }
    }
    push(TokenType::string, std::move(out), p);
    return q + 1;
  }

  std::string src_;
  const LexOptions& o_;
  const std::string& name_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  mutable size_t cursor_off_ = 0;
  mutable int cursor_col_ = 1;
};

std::string normalize_newlines(std::string_view s, bool keep_trailing) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!keep_trailing && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> tokenize(std::string_view source, const LexOptions& options, const std::string& template_name) {
  Lexer lexer(normalize_newlines(source, options.keep_trailing_newline), options, template_name);
  return lexer.run();
}

}  // namespace owl::chat
