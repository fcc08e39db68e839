// Scratch files for tests: a per-process temporary folder, removed at exit.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

inline std::filesystem::path test_scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      path = std::filesystem::temp_directory_path() / ("owl-tests-" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static Dir dir;
  return dir.path;
}
