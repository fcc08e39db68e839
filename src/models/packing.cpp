#include "models/packing.h"

#include <cstdlib>
#include <cstring>

#include "base/thread_pool.h"
#include "formats/gguf.h"
#include "kernels/cpu/kernels.h"
#include "ops/packed_matrix.h"

namespace owl {

bool packing_enabled() {
  const char* env = std::getenv("OWL_PACK");
  if (env != nullptr && std::strcmp(env, "0") == 0) return false;
  return kernels::active().gemm_packed != nullptr;
}

int packed_matrix_count(const ModelWeights& w) {
  int n = 0;
  for_each_matrix(w, [&](const Weight& m) { n += m.packed != nullptr ? 1 : 0; });
  return n;
}

void pack_weights(ModelWeights& w, const ModelFile& file) {
  if (!packing_enabled()) return;
  const kernels::KernelTable& kt = kernels::active();
  ThreadPool pool(0);
  const auto* embd_begin = static_cast<const uint8_t*>(w.token_embd.data);
  const uint8_t* embd_end = embd_begin + static_cast<size_t>(w.token_embd.rows) * w.token_embd.row_stride();
  for_each_matrix(w, [&](Weight& m) {
    if (!m || m.packed != nullptr || m.float_activations || !ops::packs(m, kt)) return;
    m.packed = ops::pack_matrix(m, kt, pool);
    const auto* begin = static_cast<const uint8_t*>(m.data);
    const size_t bytes = static_cast<size_t>(m.rows) * m.row_stride();
    const bool shares_embd = begin < embd_end && begin + bytes > embd_begin;
    if (!shares_embd) file.drop_pages(begin, bytes);
  });
}

}  // namespace owl
