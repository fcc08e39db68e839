// A large anonymous, zero-filled, page-aligned buffer (mmap), asking the kernel for transparent huge
// pages: weights streamed once per token miss the TLB far less on 2 MiB pages.
#pragma once

#include <cstddef>
#include <cstdint>

namespace owl {

class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t size);  // owl::Error when the memory cannot be had
  ~HugeBuffer();
  HugeBuffer(HugeBuffer&& other) noexcept;
  HugeBuffer& operator=(HugeBuffer&& other) noexcept;
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace owl
