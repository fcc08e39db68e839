// Reading and writing llama.cpp's importance-matrix files (formats/imatrix_file.h).
#include "formats/imatrix_file.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "base/atomic_write.h"
#include "base/error.h"
#include "base/mapped_file.h"
#include "formats/gguf.h"

namespace owl {

namespace {

constexpr std::string_view kSums2 = ".in_sum2";
constexpr std::string_view kSums = ".in_sum";
constexpr std::string_view kCounts = ".counts";
constexpr int32_t kMaxNameBytes = 4096;

bool strip_suffix(std::string& s, std::string_view suffix) {
  if (s.size() <= suffix.size() || s.compare(s.size() - suffix.size(), suffix.size(), suffix) != 0) return false;
  s.resize(s.size() - suffix.size());
  return true;
}

void check_finite(const std::string& path, const std::string& what, const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) fail("{}: {} holds a non-finite value", path, what);
  }
}

std::vector<float> f32_values(const std::string& path, const TensorInfo& t) {
  if (t.type != DType::f32) fail("{}: tensor {} is {}, an importance matrix holds f32", path, t.name, dtype_name(t.type));
  std::vector<float> v(t.n_elements);
  std::memcpy(v.data(), t.data, t.n_bytes);
  check_finite(path, "tensor " + t.name, v);
  return v;
}

Imatrix read_gguf(const std::string& path) {
  const auto f = gguf::File::open(path);
  if (const auto type = f->find_string("general.type"); type && *type != "imatrix") {
    fail("{}: not an importance matrix (a GGUF file whose general.type is '{}')", path, *type);
  }
  Imatrix m;
  if (const gguf::Value* d = f->find("imatrix.datasets")) {
    for (const gguf::Value& item : d->to_array(path + ": imatrix.datasets").items) {
      m.datasets.push_back(item.to_string(path + ": imatrix.datasets"));
    }
  }
  m.chunk_count = static_cast<int64_t>(f->find_uint("imatrix.chunk_count").value_or(0));
  m.chunk_size = static_cast<int64_t>(f->find_uint("imatrix.chunk_size").value_or(0));
  // Tensors by weight name: in_sum2, counts and (newer files) in_sum.
  std::map<std::string, std::array<const TensorInfo*, 3>> parts;
  for (const TensorInfo& t : f->tensors()) {
    std::string name = t.name;
    if (strip_suffix(name, kSums2)) {
      parts[name][0] = &t;
    } else if (strip_suffix(name, kCounts)) {
      parts[name][1] = &t;
    } else if (strip_suffix(name, kSums)) {
      parts[name][2] = &t;
    }
  }
  for (const auto& [name, p] : parts) {
    if (p[0] == nullptr || p[1] == nullptr) fail("{}: {} has {} but no {}", path, name, p[0] ? kSums2 : kCounts, p[0] ? kCounts : kSums2);
    ImatrixEntry e;
    e.sums2 = f32_values(path, *p[0]);
    e.counts = f32_values(path, *p[1]);
    if (e.counts.empty() || e.sums2.empty() || e.sums2.size() % e.counts.size() != 0) {
      fail("{}: {} has {} sums for {} counts", path, name, e.sums2.size(), e.counts.size());
    }
    for (float c : e.counts) {
      if (c < 0) fail("{}: {} has a negative count", path, name);
    }
    if (p[2] != nullptr) {
      e.sums = f32_values(path, *p[2]);
      if (e.sums.size() != e.sums2.size()) fail("{}: {} has {} sums of activations for {} of squares", path, name, e.sums.size(), e.sums2.size());
    }
    m.entries.emplace(name, std::move(e));
  }
  if (m.entries.empty()) fail("{}: no importance data (no .in_sum2/.counts tensors)", path);
  return m;
}

// A cursor over the legacy file that never reads past its end.
class Reader {
 public:
  Reader(const std::string& path, const uint8_t* p, size_t n) : path_(path), p_(p), n_(n) {}
  int32_t i32(const char* what) {
    int32_t v;
    take(&v, sizeof v, what);
    return v;
  }
  void take(void* out, size_t bytes, const char* what) {
    if (bytes > n_ - at_) fail("{}: truncated in {} (offset {})", path_, what, at_);
    std::memcpy(out, p_ + at_, bytes);
    at_ += bytes;
  }
  size_t left() const { return n_ - at_; }

 private:
  const std::string& path_;
  const uint8_t* p_;
  size_t n_;
  size_t at_ = 0;
};

Imatrix read_dat(const std::string& path, const MappedFile& file) {
  Reader r(path, file.data(), file.size());
  const int32_t n_entries = r.i32("the entry count");
  // Each entry takes at least 16 bytes: no count can claim more entries than the file holds.
  if (n_entries < 1 || static_cast<size_t>(n_entries) > file.size() / 16) {
    fail("{}: not an importance matrix (neither GGUF nor a legacy .dat: {} entries)", path, n_entries);
  }
  Imatrix m;
  for (int32_t i = 0; i < n_entries; ++i) {
    const int32_t len = r.i32("an entry's name length");
    if (len < 1 || len > kMaxNameBytes) fail("{}: entry {} has a name of {} bytes", path, i, len);
    std::string name(static_cast<size_t>(len), '\0');
    r.take(name.data(), name.size(), "an entry's name");
    const int32_t ncall = r.i32("an entry's call count");
    const int32_t nval = r.i32("an entry's value count");
    if (ncall < 0 || nval < 1 || static_cast<size_t>(nval) > r.left() / sizeof(float)) {
      fail("{}: entry {} ({}) has {} values and {} calls", path, i, name, nval, ncall);
    }
    ImatrixEntry e;
    e.sums2.resize(static_cast<size_t>(nval));
    r.take(e.sums2.data(), e.sums2.size() * sizeof(float), "an entry's values");
    check_finite(path, "entry " + name, e.sums2);
    // Stored as mean x ncall: ncall is the count they were summed over (0: already a mean).
    e.counts = {static_cast<float>(ncall > 0 ? ncall : 1)};
    if (!m.entries.emplace(std::move(name), std::move(e)).second) fail("{}: entry {} is repeated", path, i);
  }
  if (r.left() >= 2 * sizeof(int32_t)) {  // newer files end with the chunk count and the dataset's name
    m.chunk_count = r.i32("the chunk count");
    const int32_t len = r.i32("the dataset name length");
    if (len < 0 || static_cast<size_t>(len) > r.left()) fail("{}: the dataset name claims {} bytes", path, len);
    std::string dataset(static_cast<size_t>(len), '\0');
    r.take(dataset.data(), dataset.size(), "the dataset name");
    if (!dataset.empty()) m.datasets.push_back(std::move(dataset));
  }
  return m;
}

template <typename T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}

void write_dat(const Imatrix& m, std::ostream& out) {
  put(out, static_cast<int32_t>(m.entries.size()));
  for (const auto& [name, e] : m.entries) {
    put(out, static_cast<int32_t>(name.size()));
    out.write(name.data(), static_cast<std::streamsize>(name.size()));
    const float max_count = *std::max_element(e.counts.begin(), e.counts.end());
    const double per_call = m.chunk_size > 0 ? static_cast<double>(m.chunk_size) : 1.0;
    const auto ncall = std::max<int32_t>(1, static_cast<int32_t>(std::ceil(max_count / per_call)));
    put(out, ncall);
    put(out, static_cast<int32_t>(e.sums2.size()));
    const size_t n_cols = e.sums2.size() / e.counts.size();
    for (size_t i = 0; i < e.sums2.size(); ++i) {
      const float count = e.counts[i / n_cols];
      // A matrix that saw no token is stored as 1s, as llama-imatrix does.
      const float mean = count > 0 ? e.sums2[i] / count : 1.0f;
      put(out, mean * static_cast<float>(ncall));
    }
  }
  put(out, static_cast<int32_t>(m.chunk_count));
  const std::string dataset = m.datasets.empty() ? "" : m.datasets.back();
  put(out, static_cast<int32_t>(dataset.size()));
  out.write(dataset.data(), static_cast<std::streamsize>(dataset.size()));
}

void write_gguf(const Imatrix& m, const std::string& path) {
  gguf::Writer w;
  w.set("general.type", {std::string("imatrix")});
  w.set("imatrix.datasets", gguf::Value::string_array(m.datasets));
  w.set("imatrix.chunk_count", {static_cast<uint32_t>(m.chunk_count)});
  w.set("imatrix.chunk_size", {static_cast<uint32_t>(m.chunk_size)});
  const auto bytes = [](const std::vector<float>& v) {
    std::vector<uint8_t> b(v.size() * sizeof(float));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
  };
  for (const auto& [name, e] : m.entries) {
    // ggml drops trailing dimensions of 1 (in file order): one matrix is a vector and a count.
    const auto n_mat = static_cast<int64_t>(e.counts.size());
    const std::vector<int64_t> shape = n_mat == 1 ? std::vector<int64_t>{e.n_cols()} : std::vector<int64_t>{n_mat, e.n_cols()};
    const std::vector<int64_t> counts_shape = n_mat == 1 ? std::vector<int64_t>{1} : std::vector<int64_t>{n_mat, 1};
    w.add_tensor(name + std::string(kSums2), shape, DType::f32, bytes(e.sums2));
    w.add_tensor(name + std::string(kCounts), counts_shape, DType::f32, bytes(e.counts));
    if (!e.sums.empty()) w.add_tensor(name + std::string(kSums), shape, DType::f32, bytes(e.sums));
  }
  w.write(path);
}

}  // namespace

std::vector<float> Imatrix::importance(const std::string& name) const {
  const auto it = entries.find(name);
  if (it == entries.end()) return {};
  const ImatrixEntry& e = it->second;
  const auto n_cols = static_cast<size_t>(e.n_cols());
  if (n_cols == 0) return {};
  std::vector<float> v(e.sums2.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const float count = e.counts[i / n_cols];
    v[i] = count > 0 ? e.sums2[i] / count : 1.0f;
  }
  return v;
}

void Imatrix::merge(const Imatrix& other) {
  for (const auto& [name, e] : other.entries) {
    auto [it, added] = entries.emplace(name, e);
    if (added) continue;
    ImatrixEntry& mine = it->second;
    if (mine.sums2.size() != e.sums2.size() || mine.counts.size() != e.counts.size()) {
      fail("imatrix: {} has {} values in one file and {} in another", name, mine.sums2.size(), e.sums2.size());
    }
    for (size_t i = 0; i < e.sums2.size(); ++i) mine.sums2[i] += e.sums2[i];
    for (size_t i = 0; i < e.counts.size(); ++i) mine.counts[i] += e.counts[i];
    if (mine.sums.size() == e.sums.size()) {
      for (size_t i = 0; i < e.sums.size(); ++i) mine.sums[i] += e.sums[i];
    } else {
      mine.sums.clear();  // one side has no sums of activations: none are kept
    }
  }
  datasets.insert(datasets.end(), other.datasets.begin(), other.datasets.end());
  chunk_count += other.chunk_count;
  if (chunk_size == 0) chunk_size = other.chunk_size;
}

Imatrix read_imatrix(const std::string& path) {
  const MappedFile file(path);
  if (file.size() >= 4 && std::memcmp(file.data(), "GGUF", 4) == 0) return read_gguf(path);
  return read_dat(path, file);
}

void write_imatrix(const Imatrix& m, const std::string& path, ImatrixFormat format) {
  if (m.entries.empty()) fail("{}: no importance data to write", path);
  for (const auto& [name, e] : m.entries) {
    if (e.counts.empty() || e.sums2.empty() || e.sums2.size() % e.counts.size() != 0) {
      fail("{}: entry {} has {} sums for {} counts", path, name, e.sums2.size(), e.counts.size());
    }
  }
  if (format == ImatrixFormat::gguf) {
    write_gguf(m, path);
  } else {
    atomic_write(path, [&](std::ostream& out) { write_dat(m, out); });
  }
}

}  // namespace owl
