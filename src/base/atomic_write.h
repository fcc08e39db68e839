// Crash-safe file output: write everything to "<path>.tmp", flush it to disk, then rename over path.
// A crash or an error never leaves a half-written file at path (DESIGN.md, "Files the program writes").
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <span>
#include <string_view>

namespace owl {

// Writes bytes to path atomically; throws owl::Error naming the path on failure.
void atomic_write(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void atomic_write(const std::filesystem::path& path, std::string_view bytes);

// Streams the content through fill(out); an exception from fill removes the temporary file and
// propagates. Stream failures are reported as owl::Error naming the path.
void atomic_write(const std::filesystem::path& path, const std::function<void(std::ostream& out)>& fill);

// The same for outputs of gigabytes: fill also gets start_writeback(), which hands what has been
// written so far to the disk without waiting for it, so that the disk writes while fill goes on
// and the final flush has little left to wait for.
using StartWriteback = std::function<void()>;
void atomic_write(const std::filesystem::path& path,
                  const std::function<void(std::ostream& out, const StartWriteback& start_writeback)>& fill);

// A directory made whole or not at all: fill(tmp) writes into "<dir>.owl-tmp" (made empty first);
// then an existing dir is replaced by it. An exception from fill removes tmp and propagates.
void atomic_write_directory(const std::filesystem::path& dir,
                            const std::function<void(const std::filesystem::path& tmp)>& fill);

}  // namespace owl
