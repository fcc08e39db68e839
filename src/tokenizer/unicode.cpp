// utf8proc-backed Unicode services (see unicode.h). The category table is computed once from
// utf8proc_category for every code point, so a lookup is one array read; nothing here is a
// hand-written Unicode table except White_Space, which Unicode defines as \p{Z} plus six controls.
#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "tokenizer/utf8.h"

namespace owl::unicode {

namespace {

constexpr uint32_t kMaxCp = 0x110000;

uint16_t compute_flags(uint32_t cp) {
  uint16_t f = 0;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: f = kLetter; break;
    case UTF8PROC_CATEGORY_MN: f = kMark | kNonspacingMark; break;
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME: f = kMark; break;
    case UTF8PROC_CATEGORY_ND: f = kNumber | kDigit; break;
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO: f = kNumber; break;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: f = kPunctuation; break;
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: f = kSymbol; break;
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP: f = kSeparator | kWhitespace; break;
    case UTF8PROC_CATEGORY_CC: f = kControl; break;
    case UTF8PROC_CATEGORY_CF: f = kFormat; break;
    default: break;
  }
  if ((cp >= 0x09 && cp <= 0x0D) || cp == 0x85) f |= kWhitespace;  // White_Space controls
  // BERT's _is_chinese_char: the CJK Unified Ideographs blocks (a block list, not a property).
  if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
      (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F)) {
    f |= kCjk;
  }
  return f;
}

const std::vector<uint16_t>& table() {
  static const std::vector<uint16_t> t = [] {
    std::vector<uint16_t> v(kMaxCp);
    for (uint32_t cp = 0; cp < kMaxCp; ++cp) v[cp] = compute_flags(cp);
    return v;
  }();
  return t;
}

}  // namespace

uint32_t decode(std::string_view s, size_t pos, size_t& len) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
  if (p[0] < 0x80) {
    len = 1;
    return p[0];
  }
  const size_t n = utf8::valid_char_length(s, pos);
  if (n == 0) {
    len = 1;
    return kInvalid;
  }
  len = n;
  if (n == 2) return (uint32_t{p[0]} & 0x1F) << 6 | (p[1] & 0x3F);
  if (n == 3) return (uint32_t{p[0]} & 0x0F) << 12 | (uint32_t{p[1]} & 0x3F) << 6 | (p[2] & 0x3F);
  return (uint32_t{p[0]} & 0x07) << 18 | (uint32_t{p[1]} & 0x3F) << 12 | (uint32_t{p[2]} & 0x3F) << 6 | (p[3] & 0x3F);
}

uint16_t flags(uint32_t cp) {
  static const uint16_t* t = table().data();
  return cp < kMaxCp ? t[cp] : 0;
}

uint32_t to_lower(uint32_t cp) {
  if (cp >= kMaxCp) return cp;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<uint8_t>(c) >= 0x80) return false;
  }
  return true;
}

namespace {

void normalize_run(std::string_view run, Form form, std::string& out) {
  if (is_ascii(run)) {  // ASCII is invariant under every normalisation form
    out.append(run);
    return;
  }
  int options = UTF8PROC_STABLE;
  switch (form) {
    case Form::nfc: options |= UTF8PROC_COMPOSE; break;
    case Form::nfd: options |= UTF8PROC_DECOMPOSE; break;
    case Form::nfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case Form::nfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(run.data()),
                                          static_cast<utf8proc_ssize_t>(run.size()), &result,
                                          static_cast<utf8proc_option_t>(options));
  if (n < 0) {  // cannot happen for well-formed input; keep the text rather than lose it
    out.append(run);
    return;
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> holder(result, &std::free);
  out.append(reinterpret_cast<const char*>(result), static_cast<size_t>(n));
}

}  // namespace

std::string normalize(std::string_view s, Form form) {
  std::string out;
  out.reserve(s.size());
  size_t begin = 0;
  for (size_t pos = 0; pos < s.size();) {
    const size_t n = utf8::valid_char_length(s, pos);
    if (n == 0) {  // invalid byte: flush the valid run before it, copy the byte
      normalize_run(s.substr(begin, pos - begin), form, out);
      out.push_back(s[pos]);
      begin = ++pos;
    } else {
      pos += n;
    }
  }
  normalize_run(s.substr(begin), form, out);
  return out;
}

}  // namespace owl::unicode
