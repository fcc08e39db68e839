// --kv-type on the commands that allocate a KV cache, with owl's own model (heads of 24 values):
// f16 and f32 run; q8_0 is refused with the reason (its 32-value blocks would straddle heads); an
// unknown type is a one-line error naming the choices, for run, serve and bench alike.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "run_owl.h"

namespace {


TEST(KvTypeCli, ChosenRefusedOrUnknown) {
  for (const char* type : {"f16", "F32"}) {
    const OwlResult r = run_owl("run -m " + kStoriesModel + " -p \"Once upon a time\" -n 12 --temp 0 -t 2 --kv-type " + type);
    EXPECT_EQ(r.status, 0) << type << ": " << r.err;
    EXPECT_NE(r.out.find("Once upon a time"), std::string::npos) << r.out;
  }
  const OwlResult q8 = run_owl("run -m " + kStoriesModel + " -p hi -n 4 --kv-type q8_0");
  EXPECT_EQ(q8.status, 1);  // (after the license line when the model is new to this state directory)
  EXPECT_NE(q8.err.find("multiple of 32"), std::string::npos) << q8.err;
  for (const std::string& cmd : {"run -m " + kStoriesModel + " -p hi -n 4", "serve " + kStoriesModel + " --port 0", "bench -m " + kStoriesModel + " -p 4 -n 4"}) {
    const OwlResult r = run_owl(cmd + " --kv-type q4_0");
    EXPECT_EQ(r.status, 1) << cmd;
    EXPECT_EQ(count_lines(r.err), 1u) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("use f16, q8_0 or f32"), std::string::npos) << cmd << ": " << r.err;
  }
}

}  // namespace
