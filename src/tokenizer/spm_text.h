// SentencePiece's text conventions, shared by the tokenizers that read its pieces and the
// exporters that write them.
#pragma once

#include <string>
#include <string_view>

namespace owl::spm {

inline constexpr std::string_view kSpace = "\xE2\x96\x81";                // U+2581, SentencePiece's escaped space
inline constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", what SentencePiece prints for <unk>

// A piece's text with every escaped space turned back into ' '.
inline std::string unescape_spaces(std::string_view piece) {
  std::string out;
  out.reserve(piece.size());
  for (size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kSpace.size(), kSpace) == 0) {
      out.push_back(' ');
      i += kSpace.size();
    } else {
      out.push_back(piece[i++]);
    }
  }
  return out;
}

}  // namespace owl::spm
