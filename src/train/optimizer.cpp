// AdamW, schedules and clipping (train/optimizer.h), element by element as PyTorch 1.13's
// single-tensor AdamW: p·(1 − lr·wd), then the bias-corrected Adam step; arithmetic in double.
#include "train/optimizer.h"

#include <cmath>
#include <numbers>

#include "base/error.h"

namespace owl::train {

double learning_rate(const ScheduleOptions& o, int64_t s) {
  if (s < o.warmup) return o.lr * static_cast<double>(s) / static_cast<double>(o.warmup);
  if (o.kind == LrSchedule::constant) return o.lr;
  const double span = static_cast<double>(std::max<int64_t>(1, o.total - o.warmup));
  const double progress = std::min(1.0, static_cast<double>(s - o.warmup) / span);
  return o.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

std::vector<std::vector<float>*> gradient_tensors(LoraGrads& grads) {
  std::vector<std::vector<float>*> out;
  for (size_t i = 0; i < grads.a.size(); ++i) {
    out.push_back(&grads.a[i]);
    out.push_back(&grads.b[i]);
  }
  return out;
}

std::vector<std::vector<float>*> gradient_tensors(ModelGrads& grads) {
  std::vector<std::vector<float>*> out = {&grads.token_embd, &grads.output_norm};
  if (!grads.output.empty()) out.push_back(&grads.output);
  for (LayerGrads& l : grads.layers) {
    for (auto* g : {&l.attn_norm, &l.attn_q, &l.attn_k, &l.attn_v, &l.attn_output, &l.ffn_norm, &l.ffn_gate, &l.ffn_up,
                    &l.ffn_down}) {
      out.push_back(g);
    }
  }
  return out;
}

double global_norm(const std::vector<std::vector<float>*>& grads) {
  double sum = 0.0;
  for (const std::vector<float>* g : grads) {
    for (float x : *g) sum += static_cast<double>(x) * x;
  }
  return std::sqrt(sum);
}

double global_norm(LoraGrads& grads) { return global_norm(gradient_tensors(grads)); }

double clip_by_global_norm(const std::vector<std::vector<float>*>& grads, double norm, double max_norm) {
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
  if (coef >= 1.0) return 1.0;
  for (std::vector<float>* g : grads) {
    for (float& x : *g) x = static_cast<float>(x * coef);
  }
  return coef;
}

double clip_by_global_norm(LoraGrads& grads, double norm, double max_norm) {
  return clip_by_global_norm(gradient_tensors(grads), norm, max_norm);
}

void AdamW::step(std::span<const ParamTensor> params, double lr) {
  if (m_.empty()) {
    m_.resize(params.size());
    v_.resize(params.size());
  }
  if (m_.size() != params.size()) fail("AdamW: {} tensors where the state has {}", params.size(), m_.size());
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(o_.beta2, static_cast<double>(t_)));
  const double step_size = lr / bc1;
  for (size_t i = 0; i < params.size(); ++i) {
    const std::span<float> p = params[i].value;
    const std::span<const float> g = params[i].grad;
    if (g.size() != p.size()) fail("AdamW: a gradient of {} values for a tensor of {}", g.size(), p.size());
    const double decay = params[i].decay ? 1.0 - lr * o_.weight_decay : 1.0;
    m_[i].resize(p.size(), 0.0f);
    v_[i].resize(p.size(), 0.0f);
    for (size_t j = 0; j < p.size(); ++j) {
      double w = static_cast<double>(p[j]) * decay;
      const double m = o_.beta1 * m_[i][j] + (1.0 - o_.beta1) * g[j];
      const double v = o_.beta2 * v_[i][j] + (1.0 - o_.beta2) * static_cast<double>(g[j]) * g[j];
      w -= step_size * m / (std::sqrt(v) / bc2_sqrt + o_.eps);
      m_[i][j] = static_cast<float>(m);
      v_[i][j] = static_cast<float>(v);
      p[j] = static_cast<float>(w);
    }
  }
}

void AdamW::step(LoraAdapter& adapter, const LoraGrads& grads, double lr) {
  if (grads.a.size() != adapter.modules.size() || grads.b.size() != adapter.modules.size()) {
    fail("AdamW: {} gradient tensors for {} adapter modules", grads.a.size(), adapter.modules.size());
  }
  std::vector<ParamTensor> params;
  for (size_t i = 0; i < adapter.modules.size(); ++i) {
    params.push_back({adapter.modules[i].a, grads.a[i]});
    params.push_back({adapter.modules[i].b, grads.b[i]});
  }
  step(params, lr);
}

}  // namespace owl::train
