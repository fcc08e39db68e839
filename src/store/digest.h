// Content digests for the model store: SHA-256 as registries name blobs ("sha256:<64 hex>"), and the
// git blob SHA-1 the Hugging Face Hub reports for files not stored in LFS. A digest from a manifest is
// used as a file name only after is_sha256_digest accepts it (Ollama's path-traversal CVEs came from
// trusting them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace owl::store {

// Exactly "sha256:" followed by 64 lowercase hexadecimal digits.
bool is_sha256_digest(std::string_view digest);

// An incremental hash (OpenSSL's EVP); final_hex() ends it.
class Hasher {
 public:
  enum class Kind { sha256, sha1 };
  explicit Hasher(Kind kind = Kind::sha256);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void update(const void* data, size_t n);
  std::string final_hex();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The "sha256:<hex>" digest of a file's bytes (owl::Error when it cannot be read).
std::string file_sha256(const std::string& path);
// Git's blob id of a file: SHA-1 of "blob <size>\0" followed by its bytes.
std::string file_git_sha1(const std::string& path);

}  // namespace owl::store
