// Load-time repacking of a model's matrices for the active kernels (ops/packed_matrix.h). After a
// matrix is packed, its pages of the file mapping are given back, so memory stays about the file's
// size; token_embd keeps its pages (rows are read from it), so a tied output head costs both.
#pragma once

#include <cstddef>

#include "models/weights.h"

namespace owl {
class ModelFile;

// Whether the model's matrices will be packed: the active kernels have a packed path and
// OWL_PACK is not 0 (OWL_PACK=0 keeps every matrix in the mapping, for comparisons).
bool packing_enabled();

// Packs every matrix whose type has a packed form; a no-op when !packing_enabled().
void pack_weights(ModelWeights& w, const ModelFile& file);

// Calls fn on every matrix of w (the heads, then each layer's), for packing and for memory estimates.
template <typename Weights, typename Fn>
void for_each_matrix(Weights& w, Fn&& fn) {
  fn(w.output);
  for (auto& l : w.layers) {
    for (auto* m : {&l.attn_q, &l.attn_k, &l.attn_v, &l.attn_output, &l.ffn_gate, &l.ffn_up, &l.ffn_down}) fn(*m);
  }
}

// How many of w's matrices were packed (0 for float models, or with OWL_PACK=0).
int packed_matrix_count(const ModelWeights& w);

}  // namespace owl
