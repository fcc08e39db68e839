// Where tests find the shared reference data: $OWL_FIXTURES, else the build's OWL_DEFAULT_FIXTURES.
// Tests that need fixtures call OWL_REQUIRE_FIXTURES() and are skipped with a plain message otherwise.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#ifndef OWL_DEFAULT_FIXTURES
#define OWL_DEFAULT_FIXTURES "../shared/fixtures"
#endif

// The fixture root, or nullopt when that folder does not exist.
inline std::optional<std::filesystem::path> owl_fixtures() {
  const char* env = std::getenv("OWL_FIXTURES");
  std::filesystem::path root = (env != nullptr && *env != '\0') ? env : OWL_DEFAULT_FIXTURES;
  std::error_code ec;
  if (!std::filesystem::is_directory(root, ec)) return std::nullopt;
  return root;
}

// The path the fixtures are looked for at (for skip messages).
inline std::string owl_fixtures_wanted() {
  const char* env = std::getenv("OWL_FIXTURES");
  return (env != nullptr && *env != '\0') ? env : OWL_DEFAULT_FIXTURES;
}

// Declares `const std::filesystem::path fixtures` in the test body, or skips the test.
#define OWL_REQUIRE_FIXTURES()                                                      \
  const auto owl_fixtures_opt_ = owl_fixtures();                                    \
  if (!owl_fixtures_opt_) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted(); \
  const std::filesystem::path fixtures = *owl_fixtures_opt_

// Same for one file or folder below the root: declares `const std::filesystem::path name`.
#define OWL_REQUIRE_FIXTURE(name, relative)                                          \
  OWL_REQUIRE_FIXTURES();                                                            \
  const std::filesystem::path name = fixtures / (relative);                          \
  if (!std::filesystem::exists(name)) GTEST_SKIP() << "fixtures not found at " << name.string()
