// One file downloaded for the store: into "<partial>", over several connections for a large file
// (each fetching its own byte range), resumable across runs (the ranges still missing are kept in
// "<partial>.json", written atomically as they shrink), with the file's space reserved before the
// first byte, its size and digest checked, and only then renamed into place. Two pulls of the same
// file (two owl processes, or a server's two requests) take turns on a lock of the partial file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "store/http_client.h"

namespace owl::store {

struct DownloadProgress {
  uint64_t completed = 0, total = 0;
  bool verifying = false;  // every byte is here; the digest is being checked
  bool waiting = false;    // another process is downloading the same file
};

struct DownloadOptions {
  int attempts = 4;                        // connections tried per byte range before giving up
  int connections = 4;                     // at most this many ranges at once
  uint64_t segment_bytes = uint64_t{32} << 20;  // no range smaller than this gets its own connection
  // Called from the download's threads one at a time; may throw to cancel (the partial file stays).
  std::function<void(const DownloadProgress&)> progress;
};

struct DownloadSpec {
  std::string path;    // on the server
  uint64_t size = 0;
  std::string sha256;  // "sha256:<hex>" when known before the download
  std::string git_sha1;  // the Hub's git blob id of a small file
};

// Downloads spec into `partial` (resuming what is there), checks it and moves it to the path
// place(sha256 digest) returns (left alone when a file is already there). Returns the digest.
// owl::Error for a failed transfer (what arrived stays for the next run), a digest or size mismatch
// (the bytes are deleted), too little disk space (nothing is written), or a write error.
std::string download_file(HttpClient& http, const DownloadSpec& spec, const std::filesystem::path& partial,
                          const std::function<std::filesystem::path(const std::string& sha256)>& place,
                          const DownloadOptions& options);

}  // namespace owl::store
