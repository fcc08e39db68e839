// The kernels' register tiles take their token and row counts as template parameters (arrays of
// registers need them at compile time); with_count turns a run-time remainder into one of those
// instead of a switch with a case per count.
#pragma once

#include <cstdint>
#include <utility>

namespace owl::kernels {

// Calls fn.template operator()<n>() for n in [1, Max]; nothing for any other n.
template <int Max, typename Fn>
[[gnu::always_inline]] inline void with_count(int64_t n, Fn&& fn) {
  [&]<int... I>(std::integer_sequence<int, I...>) {
    (void)((n == I + 1 && (fn.template operator()<I + 1>(), true)) || ...);
  }
  (std::make_integer_sequence<int, Max>{});
}

}  // namespace owl::kernels
