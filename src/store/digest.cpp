// SHA-256 and SHA-1 through OpenSSL's EVP interface (store/digest.h).
#include "store/digest.h"

#include <openssl/evp.h>

#include <fstream>
#include <vector>

#include "base/error.h"

namespace owl::store {

struct Hasher::State {
  EVP_MD_CTX* ctx = nullptr;
};

bool is_sha256_digest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : digest.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Hasher::Hasher(Kind kind) : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  if (state_->ctx == nullptr || EVP_DigestInit_ex(state_->ctx, kind == Kind::sha256 ? EVP_sha256() : EVP_sha1(), nullptr) != 1) {
    EVP_MD_CTX_free(state_->ctx);
    fail("store: cannot start a digest (OpenSSL)");
  }
}

Hasher::~Hasher() { EVP_MD_CTX_free(state_->ctx); }

void Hasher::update(const void* data, size_t n) { EVP_DigestUpdate(state_->ctx, data, n); }

std::string Hasher::final_hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

namespace {

void hash_file(const std::string& path, Hasher& h) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot be read", path);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) fail("{}: read error", path);
}

}  // namespace

std::string file_sha256(const std::string& path) {
  Hasher h;
  hash_file(path, h);
  return "sha256:" + h.final_hex();
}

std::string file_git_sha1(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("{}: cannot be read", path);
  const std::string header = "blob " + std::to_string(static_cast<uint64_t>(in.tellg())) + '\0';
  Hasher h(Hasher::Kind::sha1);
  h.update(header.data(), header.size());
  hash_file(path, h);
  return h.final_hex();
}

}  // namespace owl::store
