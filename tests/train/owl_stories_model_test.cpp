// owl's own model, models/owl-stories-f16.gguf (scripts/train_owl_stories.sh, models/README.md):
// a real trained model every clone has, no fixtures needed. Its greedy story is pinned; its
// perplexity on held-out stories (a corpus seed the recipe never used) is pinned and stays close
// in the quantized variants; a LoRA fine-tune teaches it a new hero name; owl check calls it
// open source.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "base/thread_pool.h"
#include "models/lora_adapter.h"
#include "models/model.h"
#include "run_owl.h"
#include "tokenizer/tokenizer.h"
#include "train/batches.h"
#include "train/story_corpus.h"
#include "train/story_eval.h"

namespace {

namespace fs = std::filesystem;


// Scores on 60 held-out stories (corpus seed 2; the recipe trained on seed 1): what owl story-score prints.
owl::train::StoryScore held_out_score(const std::string& path) {
  const auto model = owl::Model::load(path);
  const auto tok = owl::Tokenizer::from_gguf(model->file());
  owl::ThreadPool pool(2);
  return owl::train::score_stories(*model, *tok, 2, 0, 60, pool);
}

// The same perplexity from the training loop's own loss (train/batches.h), a second way to the number.
double held_out_perplexity_by_dataset_loss(const std::string& path) {
  const auto model = owl::Model::load(path);
  const auto tok = owl::Tokenizer::from_gguf(model->file());
  owl::train::Dataset data;
  data.path = "held-out stories";
  for (const std::string& story : owl::train::generate_stories(2, 0, 60)) {
    owl::train::Example e;
    e.tokens = tok->encode(story, false);
    e.tokens.insert(e.tokens.begin(), tok->bos());
    e.tokens.push_back(tok->eos());
    e.targets.assign(e.tokens.size(), 1);
    e.targets[0] = 0;
    data.examples.push_back(std::move(e));
  }
  owl::ThreadPool pool(2);
  const owl::LoraAdapter none;
  owl::train::TrainPass pass(*model, none, pool);
  return std::exp(owl::train::dataset_loss(pass, data, 8, tok->eos()));
}

TEST(OwlStoriesModel, GreedyStoryIsPinned) {
  const OwlResult r = run_owl("run -m " + kStoriesModel + " -p \"Once upon a time\" -n 40 --temp 0 --no-prompt -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            ", there was a young panda named Breembie. She lived in a big green forest. The forest was full of soft "
            "moss, ferns and winding little paths.\n");
}

TEST(OwlStoriesModel, PerplexityIsPinnedAndQuantizedVariantsStayClose) {
  const double f16 = held_out_score(kStoriesModel).perplexity;
  EXPECT_NEAR(f16, 1.3678, 0.01 * 1.3678);  // models/README.md
  EXPECT_NEAR(held_out_perplexity_by_dataset_loss(kStoriesModel), f16, 1e-5 * f16);  // padded batches of 8: float sums differ
  for (const auto& [type, margin] : {std::pair<const char*, double>{"q8_0", 0.01}, {"q4_0", 0.10}}) {
    const std::string q = scratch_path(std::string("owl-stories-") + type + ".gguf").string();
    ASSERT_EQ(run_owl("quantize " + kStoriesModel + " " + q + " --type " + type).status, 0);
    const double ppl = held_out_score(q).perplexity;
    EXPECT_LT(std::fabs(ppl - f16), margin * f16) << type << ": " << ppl << " against " << f16;
    std::printf("held-out perplexity: f16 %.4f, %s %.4f\n", f16, type, ppl);
  }
}

// Most names in the corpus are rare inventions ("Goomban"), so the model can only say them again by
// copying them from the story: at every repeated mention of the hero's or the helper's name, its most
// likely next token should begin a name the story has already said, and greedy decoding should write
// the very name in most of them. The model committed before (trained on 60 names only, never
// invented ones) kept 1.4% on these stories; this one keeps 90%.
TEST(OwlStoriesModel, KeepsItsCharactersNames) {
  const OwlResult r = run_owl("story-score " + kStoriesModel + " --json -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["name_slots"].get<int64_t>(), 500);
  EXPECT_GE(j["names_consistent"].get<double>(), 0.85) << r.out;
  EXPECT_GE(j["names_exact"].get<double>(), 0.85) << r.out;
  EXPECT_NEAR(j["perplexity"].get<double>(), held_out_score(kStoriesModel).perplexity, 1e-9);
}

// Stories whose hero is always called Owl: the corpus with each story's hero renamed.
fs::path owl_hero_stories(int n_train, int n_valid) {
  const fs::path dir = scratch_path("owl-hero-stories");
  fs::create_directories(dir);
  int64_t index = 0;
  for (const auto& [file, n] : {std::pair<const char*, int>{"train.jsonl", n_train}, {"valid.jsonl", n_valid}}) {
    std::ofstream out(dir / file);
    for (int i = 0; i < n; ++i, ++index) {
      std::string story = owl::train::generate_story(3, index);
      const std::string hero = owl::train::story_cast(3, index).hero;
      for (size_t at = story.find(hero); at != std::string::npos; at = story.find(hero, at + 3)) story.replace(at, hero.size(), "Owl");
      out << nlohmann::json{{"text", story}}.dump() << "\n";
    }
  }
  return dir;
}

TEST(OwlStoriesModel, LoraFineTuneTeachesANewHeroName) {
  const fs::path data = owl_hero_stories(160, 20);
  const fs::path adapter = scratch_path("owl-hero-adapter");
  const OwlResult r = run_owl("finetune " + kStoriesModel + " --data " + data.string() + " -o " + adapter.string() +
                              " --iters 16 --batch-size 8 --lr 1e-2 --targets all --rank 8 --seed 1 -t 2");
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string prompt = "run " + kStoriesModel + " -p \"Once upon a time, there was a little fox named\" -n 4 --temp 0 -t 2";
  const OwlResult base = run_owl(prompt), tuned = run_owl(prompt + " --lora " + adapter.string());
  ASSERT_EQ(tuned.status, 0) << tuned.err;
  EXPECT_EQ(base.out.find("named Owl"), std::string::npos) << base.out;
  EXPECT_NE(tuned.out.find("named Owl"), std::string::npos) << tuned.out;
}

TEST(OwlStoriesModel, CheckCallsItOpenSource) {
  const OwlResult r = run_owl("check " + kStoriesModel + " --json");
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["openness"], "open-source") << j["openness_reason"];
  EXPECT_EQ(j["license"]["id"], "mit");
}

}  // namespace
