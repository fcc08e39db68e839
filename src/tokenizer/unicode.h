// Unicode services for the tokenizers: code point decoding that tolerates invalid UTF-8, general
// categories and White_Space (\p{L}, \p{N}, \p{P}, \s of the pre-tokenizer regexes), case mapping and
// NFC / NFKC / NFD normalisation. Categories and normalisation come from utf8proc (Unicode 15 tables).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace owl::unicode {

// A code point, or kInvalid for a byte that does not start a well-formed UTF-8 sequence.
constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Category flags of one code point (several may be set: whitespace and control for '\n').
enum : uint16_t {
  kLetter = 1 << 0,       // \p{L}
  kNumber = 1 << 1,       // \p{N}
  kPunctuation = 1 << 2,  // \p{P}
  kSymbol = 1 << 3,       // \p{S}
  kMark = 1 << 4,         // \p{M}
  kSeparator = 1 << 5,    // \p{Z}
  kControl = 1 << 6,      // \p{Cc}
  kFormat = 1 << 7,       // \p{Cf}
  kWhitespace = 1 << 8,   // the White_Space property (\s): \p{Z}, U+0009-000D and U+0085
  kNonspacingMark = 1 << 9,  // \p{Mn} (what BERT's accent stripping removes)
  kDigit = 1 << 10,       // \p{Nd}
  kCjk = 1 << 11,         // BERT's "Chinese character" ranges (CJK ideographs)
};

// The code point at s[pos] and its byte length (1 for an invalid byte, which gives kInvalid).
uint32_t decode(std::string_view s, size_t pos, size_t& len);
// Category flags of cp; 0 for kInvalid and for unassigned code points.
uint16_t flags(uint32_t cp);
inline bool is_letter(uint32_t cp) { return (flags(cp) & kLetter) != 0; }
inline bool is_number(uint32_t cp) { return (flags(cp) & kNumber) != 0; }
inline bool is_whitespace(uint32_t cp) { return (flags(cp) & kWhitespace) != 0; }
// Simple lower-case mapping.
uint32_t to_lower(uint32_t cp);
// Appends cp as UTF-8.
void append_utf8(uint32_t cp, std::string& out);

enum class Form { nfc, nfd, nfkc, nfkd };
// Normalises every well-formed run of s; invalid bytes are copied through unchanged.
std::string normalize(std::string_view s, Form form);
// True when s is certainly unchanged by NFC (ASCII only): lets callers skip the work.
bool is_ascii(std::string_view s);

}  // namespace owl::unicode
