// What the libFuzzer harnesses share: a private scratch directory per process (the readers take
// paths, so each input is written to a file there), whole-file writes, and the finding rule: a
// harness catches owl::Error only; anything else escaping is reported by libFuzzer as a crash.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

namespace owl::fuzz {

// A harness-detected broken invariant: print it and abort, so libFuzzer saves the input.
[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "owl fuzz: invariant violated: %s\n", what);
  std::abort();
}
#define OWL_FUZZ_CHECK(cond)                   \
  do {                                         \
    if (!(cond)) ::owl::fuzz::violated(#cond); \
  } while (0)

// The scratch directory of this process: $OWL_FUZZ_TMPDIR (scripts/fuzz.sh sets it) when given,
// else /dev/shm when it is a writable directory (no disk I/O per input), else /tmp; a fresh
// mkdtemp directory inside it, removed at normal exit. Never shared between processes, so
// -jobs/-fork runs do not overwrite each other's inputs.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string base;
    if (const char* env = std::getenv("OWL_FUZZ_TMPDIR"); env != nullptr && *env != '\0') {
      base = env;
    } else if (::access("/dev/shm", W_OK | X_OK) == 0) {
      base = "/dev/shm";
    } else {
      base = "/tmp";
    }
    std::string templ = base + "/owl-fuzz-" + std::to_string(::getpid()) + "-XXXXXX";
    if (::mkdtemp(templ.data()) == nullptr) {
      std::perror(("owl fuzz: mkdtemp " + templ).c_str());
      std::abort();
    }
    static std::string removed_at_exit;
    removed_at_exit = templ;
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(removed_at_exit, ec);
    });
    return templ;
  }();
  return dir;
}

// OWL_FUZZ_VERBOSE=1 prints why each input was refused (for checking that seeds are accepted:
// run a target on a folder with -runs=0).
inline void refused(const std::exception& e) {
  static const bool verbose = std::getenv("OWL_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "owl fuzz: refused: %s\n", e.what());
}

// A path inside the scratch directory.
inline std::string scratch_path(std::string_view name) { return scratch_dir() + "/" + std::string(name); }

// Replaces the file's content with exactly these bytes (the previous input's mapping is gone by now:
// every reader object of an iteration is destroyed before the next one starts).
inline void write_file(const std::string& path, const void* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror(("owl fuzz: open " + path).c_str());
    std::abort();
  }
  const auto* p = static_cast<const uint8_t*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) {
      std::perror(("owl fuzz: write " + path).c_str());
      std::abort();
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  ::close(fd);
}

inline void write_file(const std::string& path, std::string_view text) { write_file(path, text.data(), text.size()); }

// Reads every byte of [p, p + n) so that a view pointing outside its mapping faults here, in the
// harness, with the reader's stack still known from the input (ASan does not track mmap regions).
inline uint8_t touch(const uint8_t* p, uint64_t n) {
  uint8_t acc = 0;
  for (uint64_t i = 0; i < n; ++i) acc ^= static_cast<const volatile uint8_t*>(p)[i];
  return acc;
}

// Keeps a computed value alive so the compiler cannot drop the work that produced it.
template <typename T>
inline void keep(const T& value) {
  asm volatile("" : : "r,m"(value) : "memory");
}

// The whole check of a container reader: the input written to a scratch file and opened; a
// refusal (owl::Error) is the expected answer to most inputs; an accepted file is exercised and
// must round-trip through its writer (an error there aborts: the fuzzer keeps the input).
template <typename Open, typename Exercise, typename RoundTrip>
int check_reader(const uint8_t* data, size_t size, const std::string& input, const std::string& copy, Open open,
                 Exercise exercise, RoundTrip round_trip) {
  write_file(input, data, size);
  decltype(open(input)) file;
  try {
    file = open(input);
  } catch (const owl::Error& e) {
    refused(e);
    return 0;
  }
  exercise(*file);
  try {
    round_trip(*file, copy);
  } catch (const owl::Error& e) {
    std::fprintf(stderr, "owl fuzz: an accepted file does not round-trip: %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace owl::fuzz
