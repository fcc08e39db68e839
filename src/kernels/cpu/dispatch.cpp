// CPU feature detection (cpuid + xgetbv) and the kernel table chosen once per process.
// OWL_CPU=ref|avx2|avx512 forces an ISA (tests use it to compare SIMD kernels with the reference).
#include <cpuid.h>

#include <cstdlib>
#include <string>

#include "base/error.h"
#include "kernels/cpu/kernels.h"
#include "tensor/dtype.h"

namespace owl::kernels {

namespace {

struct Features {
  bool avx2 = false;
  bool avx512 = false;  // F, BW, VL, VNNI and BF16 all present and enabled by the OS
};

uint64_t xgetbv0() {
  uint32_t lo = 0;
  uint32_t hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

Features detect() {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool fma = (c >> 12) & 1;
  const bool f16c = (c >> 29) & 1;
  if (!osxsave) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
  const bool avx2 = (b >> 5) & 1;
  const bool avx512f = (b >> 16) & 1;
  const bool avx512bw = (b >> 30) & 1;
  const bool avx512vl = (b >> 31) & 1;
  const bool vnni = (c >> 11) & 1;
  unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
  __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
  const bool avx512bf16 = (a1 >> 5) & 1;
  f.avx2 = ymm_state && avx2 && fma && f16c;
  f.avx512 = f.avx2 && zmm_state && avx512f && avx512bw && avx512vl && vnni && avx512bf16;
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}

struct Tables {
  KernelTable t[3];
  Tables() {
    for (int i = 0; i < 3; ++i) {
      t[i].isa = static_cast<Isa>(i);
      t[i].dot_f32 = ref::dot_f32_row;
      t[i].f16_to_f32 = ref::f16_to_f32;
      t[i].bf16_to_f32 = ref::bf16_to_f32;
      t[i].dot_rows = ref::dot_rows;
      t[i].weighted_sum = ref::weighted_sum;
      t[i].dot_rows_f16 = ref::dot_rows_f16;
      t[i].weighted_sum_f16 = ref::weighted_sum_f16;
      t[i].dot_rows_q8_0 = ref::dot_rows_q8_0;
      t[i].weighted_sum_q8_0 = ref::weighted_sum_q8_0;
      t[i].swiglu = ref::swiglu;
      t[i].geglu = ref::geglu;
      t[i].rms_norm = ref::rms_norm;
      t[i].softmax = ref::softmax;
      t[i].add_rows_product = ref::add_rows_product;
      ref::fill_unpackers(t[i].unpack);
      ref::fill_block_converters(t[i].dequantize, t[i].quantize);
    }
    avx2::fill(t[1]);
    avx2::fill(t[2]);
    avx512::fill(t[2]);
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

Isa choose() {
  const char* env = std::getenv("OWL_CPU");
  if (env != nullptr && *env != '\0') {
    const std::string v(env);
    Isa isa;
    if (v == "ref") {
      isa = Isa::ref;
    } else if (v == "avx2") {
      isa = Isa::avx2;
    } else if (v == "avx512") {
      isa = Isa::avx512;
    } else {
      fail("OWL_CPU={}: unknown ISA (ref, avx2 or avx512)", v);
    }
    if (!isa_supported(isa)) fail("OWL_CPU={}: this CPU does not support it", v);
    return isa;
  }
  if (isa_supported(Isa::avx512)) return Isa::avx512;
  if (isa_supported(Isa::avx2)) return Isa::avx2;
  return Isa::ref;
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::ref:
      return "ref";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "?";
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::ref:
      return true;
    case Isa::avx2:
      return features().avx2;
    case Isa::avx512:
      return features().avx512;
  }
  return false;
}

const KernelTable& table_for(Isa isa) { return tables().t[static_cast<int>(isa)]; }

const KernelTable& active() {
  static const Isa isa = choose();
  return table_for(isa);
}

int unpack_group(uint32_t type) {
  switch (static_cast<DType>(type)) {
    case DType::q4_0:
    case DType::q4_1:
    case DType::q5_0:
    case DType::q5_1:
    case DType::q8_0:
    case DType::q4_k:
    case DType::q5_k:
    case DType::q8_k:
      return 32;
    case DType::q2_k:
    case DType::q3_k:
    case DType::q6_k:
      return 16;
    default:
      return 0;
  }
}

int act_block(uint32_t type) {
  switch (static_cast<DType>(type)) {
    case DType::q2_k:
    case DType::q3_k:
    case DType::q4_k:
    case DType::q5_k:
    case DType::q6_k:
    case DType::q8_k:
      return 256;
    default:
      return 32;
  }
}

int unpack_offset(uint32_t type) {
  switch (static_cast<DType>(type)) {
    case DType::q4_0:
      return -8;
    case DType::q5_0:
      return -16;
    case DType::q8_0:
    case DType::q8_k:
      return -128;
    case DType::q3_k:
      return -4;
    case DType::q6_k:
      return -32;
    default:
      return 0;
  }
}

}  // namespace owl::kernels
