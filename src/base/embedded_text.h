// The text of a file CMakeLists.txt compiled in (owl_embed): a byte array that the generator ends
// with one 0 so that an empty file is still a valid array.
#pragma once

#include <cstddef>
#include <string_view>

namespace owl {

template <size_t N>
std::string_view embedded_text(const unsigned char (&bytes)[N]) {
  return {reinterpret_cast<const char*>(bytes), N - 1};
}

}  // namespace owl
