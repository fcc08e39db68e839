// Batches of a training run by number (train/batches.h).
#include "train/batches.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace owl::train {

std::vector<size_t> epoch_order(size_t n, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (!shuffle) return order;
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1)));
  for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng() % i)]);
  return order;
}

TrainBatch make_batch(const Dataset& d, const std::vector<size_t>& order, size_t first, size_t count, int32_t pad) {
  TrainBatch b;
  b.n_seq = static_cast<int64_t>(count);
  for (size_t i = 0; i < count; ++i) {
    b.seq_len = std::max<int64_t>(b.seq_len, static_cast<int64_t>(d.examples[order[first + i]].tokens.size()));
  }
  b.ids.assign(static_cast<size_t>(b.n_seq * b.seq_len), pad);
  b.targets.assign(b.ids.size(), 0);
  for (size_t i = 0; i < count; ++i) {
    const Example& e = d.examples[order[first + i]];
    std::copy(e.tokens.begin(), e.tokens.end(), b.ids.begin() + static_cast<std::ptrdiff_t>(i * b.seq_len));
    std::copy(e.targets.begin(), e.targets.end(), b.targets.begin() + static_cast<std::ptrdiff_t>(i * b.seq_len));
  }
  return b;
}

Batches::Batches(const Dataset& d, int64_t batch_size, uint64_t seed, bool shuffle, int32_t pad)
    : d_(d), size_(static_cast<size_t>(batch_size)), seed_(seed), shuffle_(shuffle), pad_(pad) {
  if (d.examples.empty()) fail("{}: no training examples", d.path);
}

TrainBatch Batches::get(int64_t m) {
  const int64_t epoch = m / per_epoch(), index = m % per_epoch();
  if (epoch != epoch_) {
    order_ = epoch_order(d_.examples.size(), seed_, epoch, shuffle_);
    epoch_ = epoch;
  }
  const size_t first = static_cast<size_t>(index) * size_;
  return make_batch(d_, order_, first, std::min(size_, d_.examples.size() - first), pad_);
}

std::vector<TrainBatch> Batches::step(int64_t step, int64_t grad_accum, int64_t& positions) {
  std::vector<TrainBatch> micro;
  positions = 0;
  for (int64_t k = 0; k < grad_accum; ++k) {
    micro.push_back(get(step * grad_accum + k));
    positions += micro.back().n_seq * micro.back().seq_len;
  }
  return micro;
}

double dataset_loss(TrainPass& pass, const Dataset& data, int64_t batch_size, int32_t pad) {
  const std::vector<size_t> order = epoch_order(data.examples.size(), 0, 0, false);
  double total = 0.0;
  int64_t targets = 0;
  for (size_t first = 0; first < order.size(); first += static_cast<size_t>(batch_size)) {
    const TrainBatch b = make_batch(data, order, first, std::min<size_t>(static_cast<size_t>(batch_size), order.size() - first), pad);
    const int64_t n = b.n_targets();
    if (n == 0) continue;
    total += pass.loss(b) * static_cast<double>(n);
    targets += n;
  }
  if (targets == 0) fail("{}: no target tokens", data.path);
  return total / static_cast<double>(targets);
}

}  // namespace owl::train
