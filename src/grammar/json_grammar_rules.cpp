#include "grammar/json_grammar_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

namespace owl::grammar {

namespace {

constexpr int kMaxDigits = 16;

// Fixed-width digit strings from lo to hi (same length, leading zeros allowed), as GBNF.
std::string digits_between(const std::string& lo, const std::string& hi) {
  if (lo.empty()) return "";
  if (lo == hi) return "\"" + lo + "\"";
  const size_t rest = lo.size() - 1;
  const std::string all_zero(rest, '0'), all_nine(rest, '9');
  if (lo[0] == hi[0]) return fmt::format("\"{}\" {}", lo[0], digits_between(lo.substr(1), hi.substr(1)));
  auto any = [&](char a, char b) {
    std::string first = a == b ? fmt::format("\"{}\"", a) : fmt::format("[{}-{}]", a, b);
    return rest == 0 ? first : fmt::format("{} [0-9]{{{}}}", first, rest);
  };
  std::vector<std::string> alts;
  // The first digit of lo with the rest from lo's up, the digits between with anything after,
  // and hi's first digit with the rest up to hi's.
  char from = lo[0], to = hi[0];
  if (lo.substr(1) == all_zero) {
    // lo's whole block is included.
  } else {
    alts.push_back(fmt::format("\"{}\" {}", lo[0], digits_between(lo.substr(1), all_nine)));
    ++from;
  }
  const bool hi_whole = hi.substr(1) == all_nine;
  if (!hi_whole) --to;
  if (from <= to) alts.push_back(any(from, to));
  if (!hi_whole) alts.push_back(fmt::format("\"{}\" {}", hi[0], digits_between(all_zero, hi.substr(1))));
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

constexpr uint64_t kUnbounded = ~uint64_t{0};

// Non-negative whole numbers in [lo, hi] without leading zeros (hi kUnbounded: up to 16 digits).
std::string naturals_between(uint64_t lo, uint64_t hi) {
  const bool bounded = hi != kUnbounded;
  const std::string shi = bounded ? std::to_string(hi) : std::string();
  std::vector<std::string> alts;
  const std::string slo = std::to_string(lo);
  const size_t max_len = bounded ? shi.size() : static_cast<size_t>(kMaxDigits);
  for (size_t len = slo.size(); len <= max_len; ++len) {
    const std::string smallest = len == 1 ? std::string("0") : fmt::format("1{}", std::string(len - 1, '0'));
    const std::string largest(len, '9');
    const std::string a = len == slo.size() ? slo : smallest;
    const std::string b = bounded && len == max_len ? shi : largest;
    if (a.size() != b.size() || a > b) continue;
    if (a == smallest && b == largest && len > 1) {
      alts.push_back(fmt::format("[1-9] [0-9]{{{}}}", len - 1));
    } else {
      alts.push_back(digits_between(a, b));
    }
  }
  if (alts.empty()) return "";
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

}  // namespace

std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  const auto limit = static_cast<int64_t>(9999999999999999);  // 16 digits
  std::vector<std::string> alts;
  // Negative part: -m for m in [max(1, -hi), -lo].
  if (!lo || *lo < 0) {
    const uint64_t m_lo = hi && *hi < 0 ? static_cast<uint64_t>(-*hi) : 1;
    const uint64_t m_hi = lo ? static_cast<uint64_t>(-std::max(*lo, -limit)) : kUnbounded;
    const std::string body = naturals_between(m_lo, m_hi);
    if (!body.empty()) alts.push_back("\"-\" " + body);
  }
  // Non-negative part: [max(0, lo), hi].
  if (!hi || *hi >= 0) {
    const uint64_t n_lo = lo && *lo > 0 ? static_cast<uint64_t>(*lo) : 0;
    const uint64_t n_hi = hi ? static_cast<uint64_t>(std::min(*hi, limit)) : kUnbounded;
    const std::string body = naturals_between(n_lo, n_hi);
    if (!body.empty()) alts.push_back(body);
  }
  if (alts.empty()) return "";
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string json_base_rules() {
  return R"(ws ::= ( " " | "\n" [ \t]{0,40} )?
value ::= object | array | string | number | boolean | null
object ::= "{" ws ( string ws ":" ws value ws ( "," ws string ws ":" ws value ws )* )? "}"
array ::= "[" ws ( value ws ( "," ws value ws )* )? "]"
string ::= "\"" string-char* "\""
string-char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" string-hex-escape )
string-hex-escape ::= [0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}
integer ::= "-"? ( "0" | [1-9] [0-9]{0,15} )
number ::= integer ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?
boolean ::= "true" | "false"
null ::= "null"
)";
}

std::optional<std::string> format_gbnf(const std::string& format) {
  // Dates: every day exists (no 29 February: not every year has one); years from 1000.
  static const std::string date =
      R"([1-9] [0-9]{3} "-" ( ( "0" [13578] | "1" [02] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "0" [469] | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02" "-" ( "0" [1-9] | "1" [0-9] | "2" [0-8] ) ))";
  static const std::string time =
      R"(( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,6} )? ( "Z" | [+-] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ))";
  static const std::string hex = "[0-9a-f]";
  if (format == "date") return date;
  if (format == "time") return time;
  if (format == "date-time") return date + " \"T\" " + time;
  if (format == "uuid") {
    return fmt::format("{0}{{8}} \"-\" {0}{{4}} \"-\" {0}{{4}} \"-\" {0}{{4}} \"-\" {0}{{12}}", hex);
  }
  if (format == "email") {
    return R"([a-zA-Z0-9_+-]{1,20} ( "." [a-zA-Z0-9_+-]{1,20} ){0,2} "@" [a-zA-Z0-9] [a-zA-Z0-9-]{0,20} [a-zA-Z0-9] ( "." [a-zA-Z0-9] [a-zA-Z0-9-]{0,20} [a-zA-Z0-9] ){0,2} "." [a-z]{2,6})";
  }
  if (format == "uri") {
    return R"([a-z] [a-z0-9+.-]{0,9} "://" [a-z0-9] [a-z0-9.-]{0,30} ( ":" [1-9] [0-9]{0,4} )? ( "/" [a-zA-Z0-9._~-]{0,20} ){0,4} ( "?" [a-zA-Z0-9._~=&-]{0,30} )?)";
  }
  return std::nullopt;
}

}  // namespace owl::grammar
