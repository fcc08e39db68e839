// owl::Error: the one exception type for bad input and failed operations.
// Parsers throw it naming the file and the field; the CLI prints what() on one line and exits 1.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace owl {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace owl
