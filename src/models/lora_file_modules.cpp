// Adapter modules as files hold them, fused projections included (models/lora_files.h).
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/ranges.h>

#include "base/error.h"
#include "models/hf_import.h"
#include "models/lora_files.h"

namespace owl::lora_files {

namespace {

// The projection of the model's file holding (layer, t): its own, or a fused one.
struct Projection {
  std::string gguf;
  std::vector<LoraTarget> parts;
};

Projection projection_of(const Model& model, int64_t layer, LoraTarget t) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  const ModelFile& f = model.file();
  const bool attention = t == LoraTarget::q || t == LoraTarget::k || t == LoraTarget::v;
  if (attention && f.find_tensor(p + "attn_qkv.weight") != nullptr) return {p + "attn_qkv.weight", {LoraTarget::q, LoraTarget::k, LoraTarget::v}};
  // As the weights are bound: without ffn_gate, ffn_up holds rows [gate; up].
  const bool ffn = t == LoraTarget::gate || t == LoraTarget::up;
  if (ffn && f.find_tensor(p + "ffn_gate.weight") == nullptr && f.find_tensor(p + "ffn_up.weight") != nullptr) {
    return {p + "ffn_up.weight", {LoraTarget::gate, LoraTarget::up}};
  }
  return {gguf_weight_name(layer, t), {t}};
}

std::optional<std::string> hf_of(const Model& model, const std::string& gguf) {
  const std::optional<std::string> name = hf_tensor_name(family_of(model), gguf);
  if (!name || !name->ends_with(".weight")) return std::nullopt;
  return name->substr(0, name->size() - std::string_view(".weight").size());
}

std::string parts_name(const std::vector<LoraTarget>& parts) {
  std::vector<std::string_view> names;
  names.reserve(parts.size());
  for (LoraTarget t : parts) names.push_back(lora_target_name(t));
  return fmt::format("{}", fmt::join(names, "+"));
}

bool all_zero(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return x == 0.0f; });
}

}  // namespace

ModuleNames hf_module_names(const Model& model) {
  ModuleNames out;
  for (int64_t il = 0; il < model.spec().n_layer; ++il) {
    for (LoraTarget t : kAllLoraTargets) {
      const Projection p = projection_of(model, il, t);
      if (const auto name = hf_of(model, p.gguf)) out[*name] = {il, p.parts};
    }
  }
  return out;
}

ModuleNames gguf_module_names(const Model& model) {
  ModuleNames out;
  for (int64_t il = 0; il < model.spec().n_layer; ++il) {
    for (LoraTarget t : kAllLoraTargets) {
      const Projection p = projection_of(model, il, t);
      out[p.gguf] = {il, p.parts};
    }
  }
  return out;
}

std::string hf_name(const Model& model, const FileModule& m) {
  const Projection p = projection_of(model, m.layer, m.parts.front());
  const auto name = hf_of(model, p.gguf);
  if (!name) fail("LoRA: {} has no Hugging Face module for {}", model.spec().arch, p.gguf);
  return *name;
}

std::string gguf_name(const Model& model, const FileModule& m) { return projection_of(model, m.layer, m.parts.front()).gguf; }

std::vector<FileModule> file_modules(const LoraAdapter& adapter, const Model& model, RowOrder file_order) {
  std::vector<FileModule> out;
  std::set<std::pair<int64_t, LoraTarget>> done;
  for (const LoraModule& m : adapter.modules) {
    if (!done.insert({m.layer, m.target}).second) continue;
    const Projection p = projection_of(model, m.layer, m.target);
    if (p.parts.size() == 1) {
      out.push_back({m.layer, p.parts, m.rank, m.in, m.out, m.a, b_for_file(model, m, file_order), adapter.scale(m.rank)});
      continue;
    }
    std::vector<const LoraModule*> parts;
    std::vector<int64_t> rows;
    int64_t rank = 0;
    for (LoraTarget t : p.parts) {
      done.insert({m.layer, t});
      parts.push_back(adapter.find(m.layer, t));
      rows.push_back(lora_base_weight(model, m.layer, t).rows);
      if (parts.back() != nullptr) rank = std::max(rank, parts.back()->rank);
    }
    FileModule f{m.layer, p.parts, rank, m.in, 0, {}, {}, adapter.scale(rank)};
    for (int64_t r : rows) f.out += r;
    const bool shared = std::all_of(parts.begin(), parts.end(), [&](const LoraModule* x) { return x != nullptr && x->a == m.a; });
    if (shared) {  // one A for all parts, as a fused file holds it: B rows stacked
      f.a = m.a;
      for (const LoraModule* x : parts) {
        const std::vector<float> b = b_for_file(model, *x, file_order);
        f.b.insert(f.b.end(), b.begin(), b.end());
      }
      out.push_back(std::move(f));
      continue;
    }
    // Each part its own block of `rank` columns (a missing part's block all zero): A stacked, B
    // block-diagonal, so that reading splits it back into the same modules.
    const int64_t k = static_cast<int64_t>(parts.size());
    f.rank = k * rank;
    f.a.assign(static_cast<size_t>(f.rank * f.in), 0.0f);
    f.b.assign(static_cast<size_t>(f.out * f.rank), 0.0f);
    int64_t row = 0;
    for (int64_t i = 0; i < k; ++i) {
      if (const LoraModule* x = parts[static_cast<size_t>(i)]) {
        std::copy(x->a.begin(), x->a.end(), f.a.begin() + i * rank * f.in);
        const std::vector<float> b = b_for_file(model, *x, file_order);
        const float factor = adapter.scale(x->rank) / f.scale;  // a part of a smaller rank keeps its own scale
        for (int64_t r = 0; r < x->out; ++r) {
          for (int64_t c = 0; c < x->rank; ++c) {
            f.b[static_cast<size_t>((row + r) * f.rank + i * rank + c)] = b[static_cast<size_t>(r * x->rank + c)] * factor;
          }
        }
      }
      row += rows[static_cast<size_t>(i)];
    }
    out.push_back(std::move(f));
  }
  return out;
}

void rescale(FileModule& m, float file_scale) {
  const float factor = m.scale / file_scale;
  if (std::fabs(factor - 1.0f) > 1e-6f) {
    for (float& x : m.b) x *= factor;
  }
  m.scale = file_scale;
}

void add_file_module(LoraAdapter& adapter, const Model& model, FileModule m, const std::string& path, RowOrder file_order) {
  std::vector<int64_t> rows;
  int64_t out = 0;
  for (LoraTarget t : m.parts) out += rows.emplace_back(lora_base_weight(model, m.layer, t).rows);
  const int64_t in = lora_base_weight(model, m.layer, m.parts.front()).cols;
  if (m.a.empty() || m.b.empty()) fail("{}: the {} module of layer {} has only one of its two matrices", path, parts_name(m.parts), m.layer);
  if (m.rank <= 0 || m.rank > 4096 * static_cast<int64_t>(m.parts.size()) || m.in != in || m.out != out ||
      static_cast<int64_t>(m.a.size()) != m.rank * m.in || static_cast<int64_t>(m.b.size()) != m.out * m.rank) {
    fail("{}: the {} module of layer {} (rank {}, {} x {}) does not fit the base projection ({} x {})", path,
         parts_name(m.parts), m.layer, m.rank, m.out, m.in, out, in);
  }
  const int64_t k = static_cast<int64_t>(m.parts.size());
  // Block-diagonal (as owl writes parts with their own A): part i owns columns [i·block, (i+1)·block).
  int64_t block = m.rank % k == 0 && k > 1 ? m.rank / k : 0;
  for (int64_t i = 0, row = 0; block > 0 && i < k; row += rows[static_cast<size_t>(i++)]) {
    for (int64_t r = row; r < row + rows[static_cast<size_t>(i)] && block > 0; ++r) {
      for (int64_t c = 0; c < m.rank; ++c) {
        if (c / block != i && m.b[static_cast<size_t>(r * m.rank + c)] != 0.0f) {
          block = 0;
          break;
        }
      }
    }
  }
  int64_t row = 0;
  for (int64_t i = 0; i < k; row += rows[static_cast<size_t>(i++)]) {
    const LoraTarget t = m.parts[static_cast<size_t>(i)];
    const int64_t rank = block > 0 ? block : m.rank;
    const int64_t col = block > 0 ? i * block : 0;
    LoraModule part{m.layer, t, rank, in, rows[static_cast<size_t>(i)], {}, {}};
    part.a.assign(m.a.begin() + col * in, m.a.begin() + (col + rank) * in);
    for (int64_t r = row; r < row + part.out; ++r) {
      part.b.insert(part.b.end(), m.b.begin() + r * m.rank + col, m.b.begin() + r * m.rank + col + rank);
    }
    if (k > 1 && block > 0 && all_zero(part.a) && all_zero(part.b)) continue;  // a part the file does not adapt
    part.b = b_from_file(model, part, file_order);
    const float factor = m.scale / adapter.scale(rank);
    if (std::fabs(factor - 1.0f) > 1e-6f) {
      for (float& x : part.b) x *= factor;
    }
    if (adapter.find(m.layer, t) != nullptr) fail("{}: the {} module of layer {} is given twice", path, lora_target_name(t), m.layer);
    adapter.modules.push_back(std::move(part));
  }
}

void require_modules(const LoraAdapter& adapter, const std::string& path) {
  if (adapter.modules.empty()) fail("{}: no LoRA tensors", path);
}

}  // namespace owl::lora_files
