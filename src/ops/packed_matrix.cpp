#include "ops/packed_matrix.h"

#include <algorithm>

#include "kernels/cpu/packed.h"

namespace owl::ops {

bool packs(const Weight& w, const kernels::KernelTable& kt) {
  const kernels::PackedFormat* f = kernels::packed_format(static_cast<uint32_t>(w.type));
  return f != nullptr && kt.gemm_packed != nullptr && w.cols % f->superblock == 0 && w.rows > 0;
}

size_t packed_bytes(const Weight& w) {
  const kernels::PackedFormat* f = kernels::packed_format(static_cast<uint32_t>(w.type));
  if (f == nullptr) return 0;
  return kernels::packed_group_bytes(*f, w.cols) * static_cast<size_t>((w.rows + 15) / 16);
}

std::shared_ptr<const PackedMatrix> pack_matrix(const Weight& w, const kernels::KernelTable& kt, ThreadPool& pool) {
  if (!packs(w, kt)) return nullptr;
  auto p = std::make_shared<PackedMatrix>();
  p->type = static_cast<uint32_t>(w.type);
  p->rows = w.rows;
  p->cols = w.cols;
  p->group_bytes = kernels::packed_group_bytes(*kernels::packed_format(p->type), w.cols);
  p->data = HugeBuffer(packed_bytes(w));
  const int64_t n_groups = (w.rows + 15) / 16;
  pool.parallel_for(n_groups, [&](int64_t g0, int64_t g1, int) {
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * 16;
      const auto n = static_cast<int>(std::min<int64_t>(16, w.rows - r0));
      kernels::ref::pack_group(p->type, w.row(r0), w.row_stride(), n, w.cols,
                               p->data.data() + static_cast<size_t>(g) * p->group_bytes, kt.unpack[p->type]);
    }
  });
  return p;
}

}  // namespace owl::ops
