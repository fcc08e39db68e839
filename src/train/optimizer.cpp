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

double global_norm(const LoraGrads& grads) {
  double sum = 0.0;
  for (const auto* set : {&grads.a, &grads.b}) {
    for (const std::vector<float>& g : *set) {
      for (float x : g) sum += static_cast<double>(x) * x;
    }
  }
  return std::sqrt(sum);
}

double clip_by_global_norm(LoraGrads& grads, double norm, double max_norm) {
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
  if (coef >= 1.0) return 1.0;
  for (auto* set : {&grads.a, &grads.b}) {
    for (std::vector<float>& g : *set) {
      for (float& x : g) x = static_cast<float>(x * coef);
    }
  }
  return coef;
}

void AdamW::step(LoraAdapter& adapter, const LoraGrads& grads, double lr) {
  const size_t n_tensors = 2 * adapter.modules.size();
  if (grads.a.size() != adapter.modules.size() || grads.b.size() != adapter.modules.size()) {
    fail("AdamW: {} gradient tensors for {} adapter modules", grads.a.size(), adapter.modules.size());
  }
  if (m_.empty()) {
    m_.resize(n_tensors);
    v_.resize(n_tensors);
  }
  ++t_;
  const double bc1 = 1.0 - std::pow(o_.beta1, static_cast<double>(t_));
  const double bc2_sqrt = std::sqrt(1.0 - std::pow(o_.beta2, static_cast<double>(t_)));
  const double step_size = lr / bc1;
  const double decay = 1.0 - lr * o_.weight_decay;
  for (size_t i = 0; i < n_tensors; ++i) {
    LoraModule& mod = adapter.modules[i / 2];
    std::vector<float>& p = i % 2 == 0 ? mod.a : mod.b;
    const std::vector<float>& g = i % 2 == 0 ? grads.a[i / 2] : grads.b[i / 2];
    if (g.size() != p.size()) fail("AdamW: a gradient of {} values for a tensor of {}", g.size(), p.size());
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

}  // namespace owl::train
