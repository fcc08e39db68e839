// Phi-3's fused projections in adapter files (qkv_proj = rows [q; k; v], gate_up_proj = [gate; up]):
// a PEFT adapter on the fused modules, as Phi-3 fine-tunes are published, splits into parts whose
// terms are exactly the fused term's rows and is written back unchanged; parts trained apart (owl's
// own, each with its own A) survive every format with the same terms and logits; and owl finetune
// on a Phi-3 model writes its checkpoints and adapter.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "fixtures.h"
#include "formats/safetensors.h"
#include "models/decoder.h"
#include "models/lora_adapter.h"
#include "run_owl.h"
#include "test_files.h"
#include "train/train_test_util.h"

namespace {

namespace fs = std::filesystem;
using owl::LoraTarget;

std::vector<float> random_values(size_t n, std::mt19937& rng, float spread = 0.1f) {
  std::normal_distribution<float> d(0.0f, spread);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// scale·B·A as a dense (out, in) matrix, in double.
std::vector<double> delta(const std::vector<float>& a, const std::vector<float>& b, int64_t rank, int64_t in, int64_t out, double scale) {
  std::vector<double> d(static_cast<size_t>(out * in), 0.0);
  for (int64_t r = 0; r < out; ++r) {
    for (int64_t k = 0; k < rank; ++k) {
      const double bk = b[static_cast<size_t>(r * rank + k)] * scale;
      for (int64_t c = 0; c < in; ++c) d[static_cast<size_t>(r * in + c)] += bk * a[static_cast<size_t>(k * in + c)];
    }
  }
  return d;
}

double max_abs_diff(const std::vector<double>& x, const std::vector<double>& y) {
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::abs(x[i] - y[i]));
  return m;
}

std::vector<double> module_delta(const owl::LoraAdapter& adapter, const owl::LoraModule& m) {
  return delta(m.a, m.b, m.rank, m.in, m.out, adapter.scale(m.rank));
}

std::vector<float> logits_with(const std::string& model_path, const owl::LoraAdapter& adapter) {
  auto model = owl::Model::load(model_path);
  owl::attach_lora(*model, adapter, 1.0f);
  owl::ThreadPool pool(2);
  owl::Decoder decoder(*model, pool);
  owl::KvCache cache(model->spec(), 32);
  const std::vector<int32_t> ids = {1, 5, 9, 13, 17, 21};
  const std::span<const float> logits = decoder.eval(cache, ids, true);
  return {logits.begin(), logits.end()};
}

struct Fused {
  const char* module;
  std::vector<LoraTarget> parts;
};
const Fused kFused[] = {{"self_attn.qkv_proj", {LoraTarget::q, LoraTarget::k, LoraTarget::v}},
                        {"mlp.gate_up_proj", {LoraTarget::gate, LoraTarget::up}}};

TEST(LoraFused, APeftAdapterOnFusedModulesSplitsIntoItsExactRows) {
  OWL_REQUIRE_FIXTURES();
  const std::string path = (fixtures / "archs" / "phi3.gguf").string();
  const auto model = owl::Model::load(path);
  const int64_t rank = 4, in = model->spec().n_embd;
  const float alpha = 8.0f, scale = alpha / static_cast<float>(rank);
  std::mt19937 rng(11);
  // Written as a third party (PEFT on Hugging Face's Phi-3) writes it.
  const fs::path dir = scratch_path("phi3-fused-peft");
  fs::create_directories(dir);
  owl::safetensors::Writer w;
  std::map<std::string, std::pair<std::vector<float>, std::vector<float>>> fused;  // module -> (A, B)
  for (int64_t il = 0; il < model->spec().n_layer; ++il) {
    for (const Fused& f : kFused) {
      int64_t out = 0;
      for (LoraTarget t : f.parts) out += owl::lora_base_weight(*model, il, t).rows;
      const std::string name = "base_model.model.model.layers." + std::to_string(il) + "." + f.module;
      auto& [a, b] = fused[name] = {random_values(static_cast<size_t>(rank * in), rng), random_values(static_cast<size_t>(out * rank), rng)};
      w.add(name + ".lora_A.weight", owl::safetensors::DType::f32, {rank, in}, a.data(), a.size() * 4);
      w.add(name + ".lora_B.weight", owl::safetensors::DType::f32, {out, rank}, b.data(), b.size() * 4);
    }
  }
  w.write((dir / "adapter_model.safetensors").string());
  std::ofstream(dir / "adapter_config.json") << nlohmann::json{{"peft_type", "LORA"}, {"r", rank}, {"lora_alpha", alpha},
                                                               {"target_modules", {"qkv_proj", "gate_up_proj"}}}.dump();

  const owl::LoraAdapter adapter = owl::read_lora_adapter(dir.string(), *model);
  ASSERT_EQ(adapter.modules.size(), static_cast<size_t>(model->spec().n_layer * 5));
  for (int64_t il = 0; il < model->spec().n_layer; ++il) {
    for (const Fused& f : kFused) {
      const auto& [a, b] = fused.at("base_model.model.model.layers." + std::to_string(il) + "." + f.module);
      int64_t out = 0;
      for (LoraTarget t : f.parts) out += owl::lora_base_weight(*model, il, t).rows;
      const std::vector<double> whole = delta(a, b, rank, in, out, scale);
      int64_t row = 0;
      for (LoraTarget t : f.parts) {
        const owl::LoraModule* m = adapter.find(il, t);
        ASSERT_NE(m, nullptr) << owl::lora_target_name(t);
        EXPECT_EQ(m->rank, rank);
        const std::vector<double> part = module_delta(adapter, *m);
        const std::vector<double> rows(whole.begin() + row * in, whole.begin() + (row + m->out) * in);
        EXPECT_LT(max_abs_diff(part, rows), 1e-7) << "layer " << il << " " << owl::lora_target_name(t);
        row += m->out;
      }
    }
  }
  // Written back: the fused modules as they were, tensor for tensor.
  const fs::path back = scratch_path("phi3-fused-peft-back");
  owl::write_lora_adapter(adapter, *model, back.string(), owl::AdapterFormat::peft);
  const auto file = owl::safetensors::File::open((back / "adapter_model.safetensors").string());
  ASSERT_EQ(file->tensors().size(), fused.size() * 2);
  for (const auto& [name, ab] : fused) {
    for (int which = 0; which < 2; ++which) {
      const owl::safetensors::Tensor* t = file->find(name + (which == 0 ? ".lora_A.weight" : ".lora_B.weight"));
      ASSERT_NE(t, nullptr) << name;
      const std::vector<float>& want = which == 0 ? ab.first : ab.second;
      ASSERT_EQ(t->n_bytes, want.size() * 4);
      EXPECT_EQ(std::memcmp(t->data, want.data(), t->n_bytes), 0) << name;
    }
  }
}

TEST(LoraFused, PartsTrainedApartKeepTheirTermsInEveryFormat) {
  OWL_REQUIRE_FIXTURES();
  const std::string path = (fixtures / "archs" / "phi3.gguf").string();
  const auto model = owl::Model::load(path);
  std::mt19937 rng(5);
  for (const bool rslora : {false, true}) {
    owl::LoraAdapter adapter;
    adapter.alpha = 8.0f;
    adapter.rslora = rslora;
    for (int64_t il = 0; il < model->spec().n_layer; ++il) {
      // q, v, gate, up and down with their own A (k left out: its block of the fused file is empty).
      for (LoraTarget t : {LoraTarget::q, LoraTarget::v, LoraTarget::gate, LoraTarget::up, LoraTarget::down}) {
        const owl::Weight& base = owl::lora_base_weight(*model, il, t);
        adapter.modules.push_back({il, t, 4, base.cols, base.rows, random_values(static_cast<size_t>(4 * base.cols), rng),
                                   random_values(static_cast<size_t>(base.rows * 4), rng)});
      }
    }
    const std::vector<float> want = logits_with(path, adapter);
    for (const char* format : {"peft", "gguf", "mlx"}) {
      SCOPED_TRACE(std::string(format) + (rslora ? " rsLoRA" : ""));
      const fs::path dir = scratch_path(std::string("phi3-apart-") + format + (rslora ? "-rs" : ""));
      owl::write_lora_adapter(adapter, *model, dir.string(), owl::adapter_format_from_name(format));
      const owl::LoraAdapter back = owl::read_lora_adapter(dir.string(), *model);
      ASSERT_EQ(back.modules.size(), adapter.modules.size());
      for (const owl::LoraModule& m : adapter.modules) {
        const owl::LoraModule* b = back.find(m.layer, m.target);
        ASSERT_NE(b, nullptr) << owl::lora_target_name(m.target);
        EXPECT_LT(max_abs_diff(module_delta(back, *b), module_delta(adapter, m)), 1e-6) << owl::lora_target_name(m.target);
        if (std::string(format) == "peft") {  // the checkpoint format: the same modules, bit for bit
          EXPECT_EQ(b->rank, m.rank);
          EXPECT_EQ(b->a, m.a);
          EXPECT_EQ(b->b, m.b);
        }
      }
      EXPECT_LT(nmse(logits_with(path, back), want), 1e-10);
    }
    // PEFT holds each fused projection as one module of three (two) blocks, its scale in the patterns.
    std::ifstream in(scratch_path(std::string("phi3-apart-peft") + (rslora ? "-rs" : "")) / "adapter_config.json");
    const nlohmann::json config = nlohmann::json::parse(in);
    EXPECT_EQ(config.at("rank_pattern").at("model.layers.0.self_attn.qkv_proj"), 12);
    EXPECT_EQ(config.at("rank_pattern").at("model.layers.0.mlp.gate_up_proj"), 8);
    const double scale = rslora ? 8.0 / 2.0 : 8.0 / 4.0;
    EXPECT_NEAR(config.at("alpha_pattern").at("model.layers.0.self_attn.qkv_proj").get<double>(), rslora ? scale * std::sqrt(12.0) : scale * 12, 1e-4);
  }
}

TEST(LoraFused, FinetuneOnPhi3WritesItsAdapterInEachFormat) {
  OWL_REQUIRE_FIXTURES();
  const std::string model = (fixtures / "archs" / "phi3.gguf").string();
  const fs::path data = scratch_path("phi3-data.jsonl");
  {
    std::ofstream out(data);
    for (int i = 0; i < 16; ++i) out << nlohmann::json{{"tokens", {1, 5 + i, 9, 13 + i, 17, 21}}}.dump() << "\n";
  }
  for (const char* format : {"peft", "gguf", "mlx"}) {
    const fs::path out = scratch_path(std::string("phi3-tuned-") + format);
    const std::string args = "finetune " + model + " --data " + data.string() + " -o " + out.string() +
                             " --targets all --iters 3 --batch-size 2 --save-every 1 --seed 1 -t 2 --format " + format;
    const OwlResult r = run_owl(args);
    ASSERT_EQ(r.status, 0) << format << ": " << r.err;
    // Its checkpoint (PEFT, the fused modules in blocks) reads back into the same modules.
    const OwlResult resumed = run_owl(args + " --resume");
    EXPECT_EQ(resumed.status, 0) << format << ": " << resumed.err;
    const std::string adapter = std::string(format) == "gguf" ? (out / "adapter.gguf").string() : out.string();
    const OwlResult run = run_owl("logits " + model + " --lora " + adapter + " -p Hello");
    EXPECT_EQ(run.status, 0) << format << ": " << run.err;
  }
}

}  // namespace
