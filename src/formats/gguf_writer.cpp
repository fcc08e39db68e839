// GGUF v2/v3 writer: metadata in insertion order, tensor infos, then each tensor's data aligned and
// zero-padded to general.alignment (default 32), as ggml's gguf_write_to_file / gguf-py's GGUFWriter lay it out.
// The file is written to "<path>.tmp" and renamed (base/atomic_write.h).
#include <algorithm>
#include <cstring>
#include <future>
#include <ostream>

#include "base/atomic_write.h"
#include "base/error.h"
#include "formats/gguf.h"

namespace owl::gguf {

namespace {

constexpr uint64_t kDefaultAlignment = 32;

template <typename T>
void put(std::string& out, T x) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &x, sizeof(T));
  out.append(bytes, sizeof(T));
}

void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

void put_value(std::string& out, const Value& value, std::string_view key) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          put_string(out, x);
        } else if constexpr (std::is_same_v<T, Array>) {
          put<uint32_t>(out, static_cast<uint32_t>(x.elem));
          put<uint64_t>(out, x.items.size());
          for (size_t i = 0; i < x.items.size(); ++i) {
            const Value& item = x.items[i];
            if (item.type() != x.elem) {
              fail("gguf writer: metadata '{}': array element #{} is a {}, but the array holds {}", key, i,
                   value_type_name(item.type()), value_type_name(x.elem));
            }
            put_value(out, item, key);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          put<uint8_t>(out, x ? 1 : 0);
        } else {
          put<T>(out, x);
        }
      },
      value.v);
}

// Byte size of a tensor, or an error naming it when the shape does not fit the type.
uint64_t checked_tensor_bytes(const std::string& name, const std::vector<int64_t>& shape, DType type) {
  if (shape.size() > 4) fail("gguf writer: tensor '{}': {} dimensions (at most 4)", name, shape.size());
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) fail("gguf writer: tensor '{}': dimension {} must be positive", name, d);
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) fail("gguf writer: tensor '{}': size overflows", name);
  }
  const DTypeTraits& t = dtype_traits(type);
  const int64_t ne0 = shape.empty() ? 1 : shape.back();
  if (ne0 % t.block_size != 0) {
    fail("gguf writer: tensor '{}': row size {} is not a multiple of the {} block size {}", name, ne0, t.name,
         t.block_size);
  }
  return n / static_cast<uint64_t>(t.block_size) * t.block_bytes;
}

}  // namespace

Writer Writer::from(const ModelFile& file) {
  const auto* gguf_file = dynamic_cast<const File*>(&file);
  Writer w(gguf_file != nullptr ? gguf_file->version() : 3);
  w.metadata_ = file.metadata();
  for (const TensorInfo& t : file.tensors()) {
    if (t.rope_halves_heads > 0) fail("{}: tensor '{}' is not in GGUF row order (write it with write_gguf)", file.path(), t.name);
    w.tensors_.push_back(PendingTensor{t.name, t.shape, t.type, t.data, static_cast<size_t>(t.n_bytes), nullptr});
  }
  return w;
}

void Writer::set(std::string key, Value value) {
  for (auto& [k, v] : metadata_) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(std::move(key), std::move(value));
}

void Writer::remove(std::string_view key) {
  std::erase_if(metadata_, [&](const auto& kv) { return kv.first == key; });
}

void Writer::add_tensor(std::string name, std::vector<int64_t> shape, DType type, const void* data, size_t n_bytes) {
  for (const auto& t : tensors_) {
    if (t.name == name) fail("gguf writer: tensor '{}' added twice", name);
  }
  const uint64_t expected = checked_tensor_bytes(name, shape, type);
  if (expected != n_bytes) {
    fail("gguf writer: tensor '{}': {} bytes given, its shape and type need {}", name, n_bytes, expected);
  }
  if (data == nullptr && n_bytes > 0) fail("gguf writer: tensor '{}': no data", name);
  tensors_.push_back(PendingTensor{std::move(name), std::move(shape), type, data, n_bytes, nullptr});
}

void Writer::add_tensor(std::string name, std::vector<int64_t> shape, DType type, std::vector<uint8_t> owned) {
  auto buffer = std::make_shared<std::vector<uint8_t>>(std::move(owned));
  add_tensor(std::move(name), std::move(shape), type, buffer->data(), buffer->size());
  tensors_.back().owned = std::move(buffer);
}

void Writer::add_tensor(std::string name, std::vector<int64_t> shape, DType type, Filler fill) {
  for (const auto& t : tensors_) {
    if (t.name == name) fail("gguf writer: tensor '{}' added twice", name);
  }
  const uint64_t n_bytes = checked_tensor_bytes(name, shape, type);
  tensors_.push_back(PendingTensor{std::move(name), std::move(shape), type, nullptr, n_bytes, nullptr, std::move(fill)});
}

void Writer::add_tensor(std::string name, std::vector<int64_t> shape, DType type, Producer produce) {
  const uint64_t n_bytes = checked_tensor_bytes(name, shape, type);
  Filler fill = [produce = std::move(produce), n_bytes, name](uint8_t* out) {
    const std::vector<uint8_t> produced = produce();
    if (produced.size() != n_bytes) {
      fail("tensor '{}': {} bytes produced, its shape and type need {}", name, produced.size(), n_bytes);
    }
    std::memcpy(out, produced.data(), produced.size());
  };
  add_tensor(std::move(name), std::move(shape), type, std::move(fill));
}

void Writer::write(const std::string& path) const {
  if (version_ != 2 && version_ != 3) fail("{}: cannot write GGUF version {} (only 2 and 3)", path, version_);
  uint64_t alignment = kDefaultAlignment;
  for (const auto& [key, value] : metadata_) {
    if (key != "general.alignment") continue;
    const auto* a = std::get_if<uint32_t>(&value.v);
    if (a == nullptr) fail("{}: metadata 'general.alignment': must be a u32, got {}", path, value_type_name(value.type()));
    if (*a == 0 || (*a & (*a - 1)) != 0) fail("{}: metadata 'general.alignment': {} is not a nonzero power of two", path, *a);
    alignment = *a;
  }

  std::string header;
  header.append("GGUF", 4);
  put<uint32_t>(header, version_);
  put<uint64_t>(header, tensors_.size());
  put<uint64_t>(header, metadata_.size());
  for (const auto& [key, value] : metadata_) {
    put_string(header, key);
    put<uint32_t>(header, static_cast<uint32_t>(value.type()));
    put_value(header, value, key);
  }
  uint64_t offset = 0;
  for (const PendingTensor& t : tensors_) {
    put_string(header, t.name);
    put<uint32_t>(header, static_cast<uint32_t>(t.shape.size()));
    for (auto d = t.shape.rbegin(); d != t.shape.rend(); ++d) put<uint64_t>(header, static_cast<uint64_t>(*d));
    put<uint32_t>(header, static_cast<uint32_t>(t.type));
    put<uint64_t>(header, offset);
    offset += align_up(t.n_bytes, alignment);
  }
  // ggml pads the header even without tensors; gguf-py (which wrote llama.cpp's vocab-only files) does not.
  // A tensor-less file has no data section, so owl follows gguf-py there: those files round-trip exactly.
  if (!tensors_.empty()) header.resize(align_up(header.size(), alignment), '\0');

  const std::string zeros(alignment, '\0');
  // Made tensors are filled one ahead of the one being written, so reading and converting the next
  // overlaps writing this one (a conversion is then bound by the slower of the two). Tensor i is
  // made in slot i % 2: the slots are reused, so a conversion touches no fresh memory per tensor.
  size_t largest = 0;
  for (const PendingTensor& t : tensors_) {
    if (t.fill) largest = std::max(largest, t.n_bytes);
  }
  std::vector<uint8_t> slots[2];
  auto fill = [&](size_t i) {
    if (!tensors_[i].fill) return;
    std::vector<uint8_t>& slot = slots[i % 2];
    if (slot.size() < largest) slot.resize(largest);
    tensors_[i].fill(slot.data());
  };
  atomic_write(path, [&](std::ostream& out, const StartWriteback& start_writeback) {
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    std::future<void> next;
    if (!tensors_.empty()) next = std::async(std::launch::async, fill, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const PendingTensor& t = tensors_[i];
      next.get();
      if (i + 1 < tensors_.size()) next = std::async(std::launch::async, fill, i + 1);
      const void* data = t.fill ? slots[i % 2].data() : t.data;
      out.write(static_cast<const char*>(data), static_cast<std::streamsize>(t.n_bytes));
      const uint64_t pad = align_up(t.n_bytes, alignment) - t.n_bytes;
      out.write(zeros.data(), static_cast<std::streamsize>(pad));
      if (!out) fail("{}: write failed in tensor '{}'", path, t.name);
      if (t.fill) start_writeback();  // a conversion: the disk writes while the next tensor is made
    }
  });
}

}  // namespace owl::gguf
