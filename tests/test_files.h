// Files for tests: a per-process scratch folder (removed at exit) and whole-file read/write.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// owl's own model, which every clone has (models/README.md).
inline const std::string kStoriesModel =
    (std::filesystem::path(OWL_SOURCE_DIR) / "models" / "owl-stories-f16.gguf").string();

inline std::filesystem::path scratch_path(const std::string& name) { return test_scratch_dir() / name; }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Lines in a program's output.
inline size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

// Removes before writing: truncating a file in place makes ext4 flush it on close (slow in a loop).
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file of the scratch folder with these bytes; its path.
inline std::filesystem::path write_scratch(const std::string& name, const std::string& bytes) {
  const std::filesystem::path p = scratch_path(name);
  write_file(p, bytes);
  return p;
}
