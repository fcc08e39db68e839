// owl imatrix (tools/imatrix.h) on owl's own model: the sums of layer 0's q/k/v input equal a direct
// computation from the token embeddings (RMS norm times the layer's norm weight, squared, per column);
// every projection of every layer gets an entry of its column count, counted in tokens; the output
// projection only when asked. End to end through the commands: an importance matrix computed on one
// text makes Q4_1 and Q2_K quantizations measurably closer to the F16 model on another text (mean KL
// divergence, owl perplexity --kl-divergence) than the same quantizations without it; a legacy .dat
// conversion gives the same quantization; a matrix for another model is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

#include "models/model.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "run_owl.h"
#include "tokenizer/tokenizer.h"
#include "tools/imatrix.h"
#include "train/story_corpus.h"

namespace {

namespace fs = std::filesystem;


std::string stories(uint64_t seed, int64_t count) {
  std::string text;
  for (const std::string& s : owl::train::generate_stories(seed, 0, count)) text += s + "\n\n";
  return text;
}

TEST(Imatrix, SumsEachProjectionsInputPerColumn) {
  const auto model = owl::Model::load(kStoriesModel);
  const auto tok = owl::Tokenizer::from_gguf(model->file());
  std::vector<int32_t> ids = tok->encode(stories(3, 6), true);
  owl::ImatrixOptions o;
  o.chunks.n_ctx = 64;
  o.chunks.max_chunks = 4;
  o.chunks.bos = tok->bos();
  owl::ThreadPool pool(2);
  const owl::ImatrixRun run = owl::compute_imatrix(*model, ids, o, pool, nullptr);
  const owl::ModelSpec& s = model->spec();
  EXPECT_EQ(run.imatrix.entries.size(), static_cast<size_t>(7 * s.n_layer));
  EXPECT_EQ(run.imatrix.chunk_count, 4);
  for (const auto& [name, e] : run.imatrix.entries) {
    EXPECT_EQ(e.counts, std::vector<float>{256}) << name;
    const int64_t cols = model->file().tensor(name).cols();
    EXPECT_EQ(e.n_cols(), cols) << name;
  }
  EXPECT_FALSE(run.imatrix.entries.contains("output.weight"));
  EXPECT_FALSE(run.imatrix.entries.contains("token_embd.weight"));

  // Layer 0's q/k/v read rms_norm(embedding) * attn_norm of each evaluated token (BOS first per chunk).
  std::vector<double> want(static_cast<size_t>(s.n_embd), 0.0);
  std::vector<float> x(static_cast<size_t>(s.n_embd)), xn(x.size());
  for (int64_t c = 0; c < 4; ++c) {
    for (int64_t t = 0; t < 64; ++t) {
      const int32_t id = t == 0 ? tok->bos() : ids[static_cast<size_t>(c * 64 + t)];
      owl::ops::weight_row(x.data(), model->weights().token_embd, id);
      for (float& v : x) v *= s.embd_scale;
      owl::ops::rms_norm(xn.data(), x.data(), model->weights().layers[0].attn_norm.data(), s.n_embd, s.norm_eps);
      for (size_t j = 0; j < xn.size(); ++j) want[j] += static_cast<double>(xn[j]) * xn[j];
    }
  }
  for (const char* name : {"blk.0.attn_q.weight", "blk.0.attn_k.weight", "blk.0.attn_v.weight"}) {
    const std::vector<float>& got = run.imatrix.entries.at(name).sums2;
    ASSERT_EQ(got.size(), want.size());
    for (size_t j = 0; j < want.size(); ++j) EXPECT_NEAR(got[j], want[j], 1e-4 * want[j] + 1e-6) << name << " " << j;
  }
  // The perplexity of the run is owl perplexity's.
  owl::PerplexityOptions p = o.chunks;
  const owl::PerplexityReport ppl = owl::perplexity(*model, ids, p, pool, nullptr);
  EXPECT_DOUBLE_EQ(run.perplexity.perplexity, ppl.perplexity);

  o.process_output = true;
  const owl::ImatrixRun with_output = owl::compute_imatrix(*model, ids, o, pool, nullptr);
  // owl-stories ties its embeddings: the output projection is token_embd.weight.
  ASSERT_TRUE(with_output.imatrix.entries.contains("token_embd.weight"));
  EXPECT_EQ(with_output.imatrix.entries.at("token_embd.weight").n_cols(), s.n_embd);
}

double mean_kl(const std::string& model, const fs::path& base) {
  const OwlResult r = run_owl("perplexity -m " + model + " --kl-divergence-base " + base.string() + " --kl-divergence");
  EXPECT_EQ(r.status, 0) << r.err;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.out, m, std::regex("Mean KLD: ([0-9.]+)"))) << r.out;
  return m.empty() ? 0.0 : std::stod(m[1]);
}

TEST(ImatrixCli, ImportanceMakesQuantizationsCloserToTheModel) {
  const fs::path dir = scratch_path("imatrix-cli");
  fs::create_directories(dir);
  std::ofstream(dir / "calibration.txt") << stories(11, 60);
  std::ofstream(dir / "held-out.txt") << stories(12, 30);
  const fs::path imatrix = dir / "imatrix.gguf", base = dir / "base.kl";
  OwlResult r = run_owl("imatrix -m " + kStoriesModel + " -f " + (dir / "calibration.txt").string() + " -c 256 --chunks 40 -o " +
                        imatrix.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("Final estimate: PPL"), std::string::npos) << r.err;
  r = run_owl("perplexity -m " + kStoriesModel + " -f " + (dir / "held-out.txt").string() + " -c 256 --chunks 24 --kl-divergence-base " +
              base.string());
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* type : {"Q4_1", "Q2_K"}) {
    const std::string plain = (dir / (std::string(type) + ".gguf")).string();
    const std::string weighted = (dir / (std::string(type) + "-imatrix.gguf")).string();
    // --pure: the type itself wherever its blocks fit (the preset's higher-precision tensors would blur the measure).
    ASSERT_EQ(run_owl("quantize " + kStoriesModel + " " + plain + " --pure --type " + type).status, 0);
    r = run_owl("quantize " + kStoriesModel + " " + weighted + " --pure --type " + type + " --imatrix " + imatrix.string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.err.find("under the importance matrix"), std::string::npos) << r.err;
    const double kl_plain = mean_kl(plain, base), kl_weighted = mean_kl(weighted, base);
    std::printf("%s: mean KL %.5f without the importance matrix, %.5f with it\n", type, kl_plain, kl_weighted);
    EXPECT_LT(kl_weighted, 0.92 * kl_plain) << type;
    // The file says which importance matrix made it.
    r = run_owl("inspect " + weighted);
    EXPECT_NE(r.out.find("quantize.imatrix.file"), std::string::npos);
  }

  // The legacy format holds the same means: the quantization from a converted .dat is the same file.
  const fs::path dat = dir / "imatrix.dat";
  r = run_owl("imatrix --in-file " + imatrix.string() + " -o " + dat.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string from_dat = (dir / "Q4_1-dat.gguf").string();
  ASSERT_EQ(run_owl("quantize " + kStoriesModel + " " + from_dat + " --pure --type Q4_1 --imatrix " + dat.string()).status, 0);
  EXPECT_NEAR(mean_kl(from_dat, base), mean_kl((dir / "Q4_1-imatrix.gguf").string(), base), 1e-4);

  // An importance matrix of another model (other column counts) is refused before anything is written.
  owl::Imatrix other = owl::read_imatrix(imatrix.string());
  for (auto& [name, e] : other.entries) {
    e.sums2.resize(e.sums2.size() + 32, 1.0f);
    e.sums.clear();
  }
  owl::write_imatrix(other, (dir / "other.gguf").string(), owl::ImatrixFormat::gguf);
  r = run_owl("quantize " + kStoriesModel + " " + (dir / "x.gguf").string() + " --type Q4_0 --imatrix " + (dir / "other.gguf").string());
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("another model"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.gguf"));
}

}  // namespace
