// UTF-8 helpers shared by the tokenizers and the streaming detokenizer: the length of one well-formed
// character and the length of an unfinished sequence at the end of a buffer. Well-formedness follows
// RFC 3629 / Unicode table 3-7 (no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace owl::utf8 {

// Bytes a sequence that starts with lead byte b needs (1-4); 0 when b cannot start one
// (a continuation byte, C0, C1 or F5-FF).
constexpr size_t sequence_length(uint8_t b) {
  if (b < 0x80) return 1;
  if (b < 0xC2) return 0;
  if (b < 0xE0) return 2;
  if (b < 0xF0) return 3;
  if (b < 0xF5) return 4;
  return 0;
}

// The allowed range of the byte after lead byte b (the later ones are always 80-BF).
constexpr void second_byte_range(uint8_t b, uint8_t& lo, uint8_t& hi) {
  lo = 0x80;
  hi = 0xBF;
  if (b == 0xE0) lo = 0xA0;       // no overlong 3-byte forms
  else if (b == 0xED) hi = 0x9F;  // no surrogates
  else if (b == 0xF0) lo = 0x90;  // no overlong 4-byte forms
  else if (b == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
}

// Length of the well-formed character that starts s[pos], or 0 when the bytes there are not one
// (an invalid byte or a sequence cut short).
inline size_t valid_char_length(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const size_t n = sequence_length(p[0]);
  if (n <= 1) return n;
  if (avail < n) return 0;
  uint8_t lo = 0;
  uint8_t hi = 0;
  second_byte_range(p[0], lo, hi);
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return n;
}

// Length of one "character" for tokenization: a well-formed character, or a single byte when
// the bytes at pos are not well-formed (each invalid byte stands alone).
inline size_t char_length(std::string_view s, size_t pos) {
  const size_t n = valid_char_length(s, pos);
  return n == 0 ? 1 : n;
}

// Bytes at the end of s that form the start of a well-formed sequence still missing its last
// bytes: what a streaming decoder must hold back. 0 when s ends on a complete character or on
// bytes that can never become well-formed.
inline size_t incomplete_tail(std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t size = s.size();
  // The lead byte is at most 3 bytes from the end (a 4-byte sequence missing its last byte).
  for (size_t back = 1; back <= 3 && back <= size; ++back) {
    const uint8_t b = p[size - back];
    if (b >= 0x80 && b <= 0xBF) continue;  // a continuation byte: keep looking for the lead
    const size_t n = sequence_length(b);
    if (n <= back) return 0;  // ASCII, invalid lead, or already complete (or over-long run)
    // back bytes present out of n: check the ones present are allowed continuations.
    if (back >= 2) {
      uint8_t lo = 0;
      uint8_t hi = 0;
      second_byte_range(b, lo, hi);
      const uint8_t second = p[size - back + 1];
      if (second < lo || second > hi) return 0;
    }
    return back;
  }
  return 0;
}

}  // namespace owl::utf8
