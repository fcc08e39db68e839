// Segmented, resumable, verified downloads (store/download.h).
#include "store/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/atomic_write.h"
#include "base/error.h"
#include "store/digest.h"

namespace owl::store {

namespace fs = std::filesystem;

namespace {

using Range = std::pair<uint64_t, uint64_t>;  // [begin, end) still to fetch
using Clock = std::chrono::steady_clock;

fs::path meta_path(const fs::path& partial) {
  fs::path p = partial;
  p += ".json";
  return p;
}

// The partial file, opened and locked for this process (flock: released by the kernel when the
// process dies, so a killed pull never blocks the next one).
class LockedFile {
 public:
  LockedFile(const fs::path& path, const std::function<void(const DownloadProgress&)>& progress) {
    for (;;) {
      fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0) fail("{}: {}", path.string(), std::strerror(errno));
      bool told = false;
      while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) fail("{}: cannot lock: {}", path.string(), std::strerror(errno));
        if (!told && progress) progress({0, 0, false, true});
        told = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      // The other pull may have finished meanwhile and renamed the file we locked: start again
      // on what the path names now.
      struct stat ours {}, now {};
      if (::fstat(fd_, &ours) == 0 && ::stat(path.c_str(), &now) == 0 && ours.st_ino == now.st_ino && ours.st_dev == now.st_dev) return;
      ::close(fd_);
    }
  }
  ~LockedFile() { ::close(fd_); }
  LockedFile(const LockedFile&) = delete;
  LockedFile& operator=(const LockedFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// What is still missing: from the ranges file when it describes this download, else (a partial file
// written front to back) everything after its bytes.
std::vector<Range> missing_ranges(const fs::path& partial, int fd, uint64_t size) {
  std::error_code ec;
  const fs::path meta = meta_path(partial);
  if (fs::exists(meta, ec)) {
    try {
      std::ifstream in(meta);
      const nlohmann::json j = nlohmann::json::parse(in);
      if (j.at("size").get<uint64_t>() == size) {
        std::vector<Range> out;
        uint64_t last = 0;
        for (const auto& r : j.at("missing")) {
          const Range range{r.at(0).get<uint64_t>(), r.at(1).get<uint64_t>()};
          if (range.first < last || range.first > range.second || range.second > size) throw std::runtime_error("ranges");
          if (range.first < range.second) out.push_back(range);
          last = range.second;
        }
        return out;
      }
    } catch (const std::exception&) {
      // A damaged or foreign ranges file: start over.
    }
    if (::ftruncate(fd, 0) != 0) fail("{}: {}", partial.string(), std::strerror(errno));
    return {{0, size}};
  }
  struct stat st {};
  const uint64_t have = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  if (have > size) {
    if (::ftruncate(fd, 0) != 0) fail("{}: {}", partial.string(), std::strerror(errno));
    return {{0, size}};
  }
  if (have == size) return {};
  return {{have, size}};
}

void save_ranges(const fs::path& partial, uint64_t size, const std::vector<Range>& ranges) {
  nlohmann::json missing = nlohmann::json::array();
  std::vector<Range> sorted = ranges;
  std::sort(sorted.begin(), sorted.end());
  for (const Range& r : sorted) {
    if (r.first < r.second) missing.push_back({r.first, r.second});
  }
  atomic_write(meta_path(partial), nlohmann::json{{"size", size}, {"missing", missing}}.dump());
}

// Splits the largest ranges in two until there is one per connection or none is worth splitting.
std::vector<Range> split_ranges(std::vector<Range> ranges, int connections, uint64_t segment_bytes) {
  while (static_cast<int>(ranges.size()) < connections && !ranges.empty()) {
    auto largest = std::max_element(ranges.begin(), ranges.end(),
                                    [](const Range& a, const Range& b) { return a.second - a.first < b.second - b.first; });
    const uint64_t n = largest->second - largest->first;
    if (n < 2 * std::max<uint64_t>(segment_bytes, 1)) break;
    const uint64_t middle = largest->first + n / 2;
    const Range upper{middle, largest->second};
    largest->second = middle;
    ranges.push_back(upper);
  }
  return ranges;
}

// Space for the bytes not yet on disk, reserved now so that a full disk stops the pull before it
// starts rather than in the middle. Filesystems without fallocate get the free-space check alone.
void reserve_space(int fd, const fs::path& partial, uint64_t size) {
  struct stat st {};
  const uint64_t allocated = ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
  const uint64_t needed = size > allocated ? size - allocated : 0;
  std::error_code ec;
  const fs::space_info s = fs::space(partial.parent_path(), ec);
  const auto refuse = [&](uint64_t free) {
    fail("not enough disk space in {}: {:.1f} MiB more needed, {:.1f} MiB free", partial.parent_path().string(),
         static_cast<double>(needed) / 1048576.0, static_cast<double>(free) / 1048576.0);
  };
  if (!ec && s.available < needed) refuse(s.available);
  if (size > 0 && ::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
    if (errno == ENOSPC) refuse(ec ? 0 : s.available);
    if (errno != EOPNOTSUPP && errno != ENOSYS) fail("{}: cannot reserve space: {}", partial.string(), std::strerror(errno));
  }
}

struct Transfer {
  HttpClient& http;
  const DownloadSpec& spec;
  const fs::path& partial;
  const DownloadOptions& options;
  int fd;

  std::mutex mutex;  // guards the fields below up to the atomics
  std::vector<Range> ranges;
  uint64_t completed = 0;
  std::exception_ptr error;
  std::string last_failure;
  Clock::time_point saved = Clock::now();
  std::atomic<bool> stop{false};
  std::atomic<bool> ranges_ignored{false};

  void fail_with(std::exception_ptr e) {
    std::lock_guard lock(mutex);
    if (!error) error = std::move(e);
    stop = true;
  }

  // Writes bytes at offset; false when the file could not take them (the error is recorded).
  bool write_at(const char* data, size_t n, uint64_t offset) {
    while (n > 0) {
      const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        const int e = w < 0 ? errno : EIO;
        try {
          fail("{}: {}{}", partial.string(), std::strerror(e), e == ENOSPC ? " (the disk is full; free space and run owl pull again)" : "");
        } catch (...) {
          fail_with(std::current_exception());
        }
        return false;
      }
      data += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
    return true;
  }

  // One connection working through range i, retrying where it broke off.
  void work(size_t i, HttpClient& client) {
    for (int attempt = 0; attempt < options.attempts && !stop; ++attempt) {
      Range r;
      {
        std::lock_guard lock(mutex);
        r = ranges[i];
      }
      if (r.first >= r.second) return;
      const bool whole = r.first == 0 && r.second == spec.size;
      bool first = true;
      uint64_t at = r.first;
      const HttpClient::Streamed s = client.get_bytes(spec.path, r.first, whole ? 0 : r.second, [&](int status, const char* data, size_t n) {
        if (stop) return false;
        if (first && status == 200 && !whole) {  // the server ignored the range and sends the whole file
          std::lock_guard lock(mutex);
          if (ranges.size() != 1 || r.second != spec.size) {
            ranges_ignored = true;
            return false;
          }
          completed -= at;
          at = 0;
          ranges[i].first = 0;
        }
        first = false;
        n = static_cast<size_t>(std::min<uint64_t>(n, r.second - at));  // never more than announced
        if (n == 0 || !write_at(data, n, at)) return false;
        at += n;
        try {
          std::lock_guard lock(mutex);
          ranges[i].first = at;
          completed += n;
          if (Clock::now() - saved > std::chrono::seconds(1)) {
            save_ranges(partial, spec.size, ranges);
            saved = Clock::now();
          }
          if (options.progress) options.progress({completed, spec.size, false, false});
        } catch (...) {  // (the lock is released by now)
          fail_with(std::current_exception());
          return false;
        }
        return at < r.second;
      });
      if (stop || ranges_ignored) return;
      if (s.status > 0 && s.status != 200 && s.status != 206) {
        try {
          fail("{}: HTTP {}", http.where(spec.path), s.status);
        } catch (...) {
          fail_with(std::current_exception());
        }
        return;
      }
      std::lock_guard lock(mutex);
      last_failure = s.dropped ? "the connection failed or dropped" : "the server ended early";
    }
  }

  // Runs one connection per range; true when the server ignored a range request.
  bool run() {
    std::vector<std::unique_ptr<HttpClient>> clients;
    std::vector<std::thread> threads;
    for (size_t i = 1; i < ranges.size(); ++i) clients.push_back(http.another());
    for (size_t i = 1; i < ranges.size(); ++i) threads.emplace_back([this, i, &clients] { work(i, *clients[i - 1]); });
    work(0, http);
    for (std::thread& t : threads) t.join();
    std::lock_guard lock(mutex);
    save_ranges(partial, spec.size, ranges);
    if (error) std::rethrow_exception(error);
    return ranges_ignored;
  }
};

}  // namespace

std::string download_file(HttpClient& http, const DownloadSpec& spec, const fs::path& partial,
                          const std::function<fs::path(const std::string& sha256)>& place, const DownloadOptions& o) {
  std::error_code ec;
  fs::create_directories(partial.parent_path());
  const LockedFile file(partial, o.progress);
  const auto remove_partial = [&] {
    fs::remove(partial, ec);
    fs::remove(meta_path(partial), ec);
  };
  if (!spec.sha256.empty()) {  // another pull may have stored it while this one waited
    const fs::path done = place(spec.sha256);
    if (fs::is_regular_file(done, ec) && fs::file_size(done, ec) == spec.size) {
      remove_partial();
      return spec.sha256;
    }
  }
  std::vector<Range> missing = missing_ranges(partial, file.fd(), spec.size);
  if (!missing.empty()) {
    uint64_t left = 0;
    for (const Range& r : missing) left += r.second - r.first;
    save_ranges(partial, spec.size, missing);  // before the file grows: its size no longer tells what arrived
    try {
      reserve_space(file.fd(), partial, spec.size);
    } catch (const Error&) {
      if (left == spec.size) remove_partial();  // nothing arrived yet: leave nothing behind
      throw;
    }
    Transfer t{http, spec, partial, o, file.fd()};
    t.ranges = split_ranges(missing, std::max(o.connections, 1), o.segment_bytes);
    t.completed = spec.size - left;
    if (t.run()) {  // ranges ignored: one connection from the start
      Transfer whole{http, spec, partial, o, file.fd()};
      whole.ranges = {{0, spec.size}};
      whole.run();
      missing = whole.ranges;
      t.last_failure = whole.last_failure;
    } else {
      missing = t.ranges;
    }
    uint64_t still = 0;
    for (const Range& r : missing) still += r.second - r.first;
    if (still > 0) {
      fail("{}: {} of {} bytes arrived ({}); run owl pull again to resume", http.where(spec.path), spec.size - still,
           spec.size, t.last_failure.empty() ? "the transfer stopped" : t.last_failure);
    }
  }
  if (o.progress) o.progress({spec.size, spec.size, true, false});
  if (::fsync(file.fd()) != 0) fail("{}: {}", partial.string(), std::strerror(errno));
  std::string sha256 = file_sha256(partial.string());
  const bool size_ok = fs::file_size(partial) == spec.size;
  const bool sha_ok = spec.sha256.empty() || sha256 == spec.sha256;
  const bool git_ok = spec.git_sha1.empty() || file_git_sha1(partial.string()) == spec.git_sha1;
  if (!size_ok || !sha_ok || !git_ok) {
    remove_partial();
    fail("{}: the downloaded bytes do not match their digest (expected {}, got {}); nothing was stored", http.where(spec.path),
         spec.sha256.empty() ? spec.git_sha1 : spec.sha256, sha256);
  }
  const fs::path to = place(sha256);
  if (fs::is_regular_file(to, ec) && fs::file_size(to, ec) == spec.size) {
    fs::remove(partial);
  } else {
    fs::rename(partial, to);
  }
  fs::remove(meta_path(partial), ec);
  return sha256;
}

}  // namespace owl::store
