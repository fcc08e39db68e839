// Temporary-name-and-rename file output with std::ofstream and std::filesystem::rename;
// the temporary file is fsync'ed before the rename so the new content is durable.
#include "base/atomic_write.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "base/error.h"

namespace owl {

namespace {

void remove_quietly(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::remove(p, ec);
}

void sync_file(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data was written and closed successfully
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

void atomic_write(const std::filesystem::path& path, const std::function<void(std::ostream& out)>& fill) {
  atomic_write(path, [&](std::ostream& out, const StartWriteback&) { fill(out); });
}

void atomic_write(const std::filesystem::path& path,
                  const std::function<void(std::ostream& out, const StartWriteback& start_writeback)>& fill) {
  std::filesystem::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) fail("{}: cannot create {}: {}", path.string(), tmp.string(), std::strerror(errno));
    // A second descriptor of the same file for sync_file_range (an ofstream does not show its own).
    const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
    const StartWriteback start_writeback = [&] {
      out.flush();
      if (fd >= 0) (void)::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);  // a hint: failure changes nothing
    };
    struct Closer {
      int fd;
      ~Closer() {
        if (fd >= 0) ::close(fd);
      }
    } closer{fd};
    try {
      fill(out, start_writeback);
      out.flush();
    } catch (...) {
      out.close();
      remove_quietly(tmp);
      throw;
    }
    if (!out) {
      const int err = errno;
      out.close();
      remove_quietly(tmp);
      fail("{}: write failed: {}", path.string(), std::strerror(err));
    }
    out.close();
    if (!out) {
      remove_quietly(tmp);
      fail("{}: closing {} failed", path.string(), tmp.string());
    }
  }
  sync_file(tmp);
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    remove_quietly(tmp);
    fail("{}: cannot rename {} over it: {}", path.string(), tmp.string(), ec.message());
  }
}

void atomic_write(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  atomic_write(path, [&](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  });
}

void atomic_write(const std::filesystem::path& path, std::string_view bytes) {
  atomic_write(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void atomic_write_directory(const std::filesystem::path& dir,
                            const std::function<void(const std::filesystem::path& tmp)>& fill) {
  namespace fs = std::filesystem;
  const fs::path tmp = dir.string() + ".owl-tmp";
  const fs::path old = dir.string() + ".owl-old";
  std::error_code ec;
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) fail("{}: cannot create {}: {}", dir.string(), tmp.string(), ec.message());
  try {
    fill(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  // The old directory (if any) is replaced only once the new one is complete.
  fs::remove_all(old, ec);
  if (fs::exists(dir, ec)) {
    fs::rename(dir, old, ec);
    if (ec) fail("{}: cannot move it aside: {}", dir.string(), ec.message());
  }
  fs::rename(tmp, dir, ec);
  if (ec) fail("{}: cannot rename {} over it: {}", dir.string(), tmp.string(), ec.message());
  fs::remove_all(old, ec);
}

}  // namespace owl
