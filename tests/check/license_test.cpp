// License normalisation: real-world license strings (GGUF general.license*, model-card fields, links,
// LICENSE texts) to the expected record, and the verdict for each use. Unknown strings stay unknown.
#include <gtest/gtest.h>

#include "base/error.h"
#include "tools/check/license.h"
#include "tools/check/model_card.h"

namespace {

using owl::check::LicenseTable;
using owl::check::Use;
using owl::check::Verdict;

struct Case {
  const char* input;
  const char* id;  // "unknown": must not be recognised
  // Verdicts for personal, research, commercial use.
  Verdict personal, research, commercial;
};

constexpr Verdict A = Verdict::allowed, C = Verdict::conditions, N = Verdict::not_allowed, U = Verdict::unknown;

const Case kCases[] = {
    {"llama2", "llama2", C, C, C},
    {"Llama 2 Community License Agreement", "llama2", C, C, C},
    {"  LLAMA 2 COMMUNITY LICENSE AGREEMENT ", "llama2", C, C, C},
    {"https://ai.meta.com/llama/license/", "llama2", C, C, C},
    {"https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/LICENSE.txt", "llama2", C, C, C},
    {"llama3", "llama3", C, C, C},
    {"Meta Llama 3 Community License Agreement", "llama3", C, C, C},
    {"https://llama.meta.com/llama3/license/", "llama3", C, C, C},
    {"llama3.1", "llama3.1", C, C, C},
    {"Llama 3.1 Community License", "llama3.1", C, C, C},
    {"llama3_1", "llama3.1", C, C, C},
    {"https://github.com/meta-llama/llama-models/blob/main/models/llama3_1/LICENSE", "llama3.1", C, C, C},
    {"llama3.2", "llama3.2", C, C, C},
    {"https://huggingface.co/meta-llama/Llama-3.2-1B/blob/main/LICENSE.txt", "llama3.2", C, C, C},
    {"LLAMA 3.3 COMMUNITY LICENSE AGREEMENT", "llama3.3", C, C, C},
    {"gemma", "gemma", C, C, C},
    {"Gemma Terms of Use", "gemma", C, C, C},
    {"https://ai.google.dev/gemma/terms", "gemma", C, C, C},
    {"apache-2.0", "apache-2.0", A, A, A},
    {"Apache-2.0", "apache-2.0", A, A, A},
    {"Apache License 2.0", "apache-2.0", A, A, A},
    {"Apache License, Version 2.0", "apache-2.0", A, A, A},
    {" apache 2.0 ", "apache-2.0", A, A, A},
    {"https://www.apache.org/licenses/LICENSE-2.0", "apache-2.0", A, A, A},
    {"http://www.apache.org/licenses/LICENSE-2.0.txt", "apache-2.0", A, A, A},
    {"mit", "mit", A, A, A},
    {"MIT License", "mit", A, A, A},
    {"https://opensource.org/licenses/MIT", "mit", A, A, A},
    {"cc-by-nc-4.0", "cc-by-nc-4.0", A, A, N},
    {"CC BY-NC 4.0", "cc-by-nc-4.0", A, A, N},
    {"https://creativecommons.org/licenses/by-nc/4.0/", "cc-by-nc-4.0", A, A, N},
    {"cc-by-4.0", "cc-by-4.0", A, A, C},
    {"cc-by-sa-4.0", "cc-by-sa-4.0", A, A, C},
    {"cc-by-nc-sa-4.0", "cc-by-nc-sa-4.0", A, A, N},
    {"bsd-3-clause", "bsd-3-clause", A, A, A},
    {"gpl-3.0", "gpl-3.0", A, A, C},  // copyleft binds what a product distributes
    {"agpl-3.0", "agpl-3.0", A, A, C},
    {"bigscience-openrail-m", "openrail-m", C, C, C},
    {"creativeml-openrail-m", "creativeml-openrail-m", C, C, C},
    {"bigcode-openrail-m", "bigcode-openrail-m", C, C, C},
    {"openrail", "openrail", C, C, C},
    {"qwen", "qwen", C, C, C},
    {"Tongyi Qianwen LICENSE AGREEMENT", "qwen", C, C, C},
    {"qwen-research", "qwen-research", C, C, N},
    {"https://mistral.ai/licenses/MRL-0.1.md", "mistral-research", C, C, N},
    {"mrl", "mistral-research", C, C, N},
    {"https://mistral.ai/licenses/MNPL-0.1.md", "mistral-non-production", C, C, N},
    {"deepseek", "deepseek", C, C, C},
    {"nvidia-open-model-license", "nvidia-open-model", C, C, C},
    {"cc0-1.0", "cc0-1.0", A, A, A},
    {"other", "unknown", U, U, U},
    {"", "unknown", U, U, U},
    {"my-custom-license", "unknown", U, U, U},
    {"apache", "unknown", U, U, U},  // which version? never guessed
    {"https://huggingface.co/someone/some-model/blob/main/LICENSE", "unknown", U, U, U},
    {"llama", "unknown", U, U, U},
};

TEST(License, NormalisesRealWorldStrings) {
  const LicenseTable& t = LicenseTable::builtin();
  EXPECT_GE(std::size(kCases), 40u);
  for (const Case& c : kCases) {
    const owl::check::LicenseRecord* r = t.match(c.input);
    EXPECT_EQ(r != nullptr ? r->id : "unknown", c.id) << "'" << c.input << "'";
    const Verdict want[] = {c.personal, c.research, c.commercial};
    const Use uses[] = {Use::personal, Use::research, Use::commercial};
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(owl::check::verdict_for(r, uses[i], std::nullopt).verdict, want[i])
          << "'" << c.input << "' for " << owl::check::use_name(uses[i]);
    }
  }
}

TEST(License, CopyleftIsAConditionOnCommercialUse) {
  for (const char* id : {"gpl-3.0", "agpl-3.0", "mpl-2.0", "cc-by-sa-4.0"}) {
    const auto* r = LicenseTable::builtin().find_id(id);
    ASSERT_NE(r, nullptr) << id;
    const auto v = owl::check::verdict_for(r, Use::commercial, std::nullopt);
    EXPECT_EQ(v.verdict, Verdict::conditions) << id;
    bool named = false;
    for (const std::string& c : v.conditions) named = named || c.rfind("what you distribute: ", 0) == 0;
    EXPECT_TRUE(named) << id;
  }
  const auto* mit = LicenseTable::builtin().find_id("mit");
  EXPECT_EQ(owl::check::verdict_for(mit, Use::commercial, std::nullopt).verdict, Verdict::allowed);
}

TEST(License, UserLimitDecidesCommercialUse) {
  const auto* llama2 = LicenseTable::builtin().find_id("llama2");
  ASSERT_NE(llama2, nullptr);
  EXPECT_EQ(llama2->user_limit, 700000000);
  EXPECT_EQ(owl::check::verdict_for(llama2, Use::commercial, 1000).verdict, Verdict::conditions);
  EXPECT_EQ(owl::check::verdict_for(llama2, Use::commercial, 800000000).verdict, Verdict::not_allowed);
  EXPECT_EQ(owl::check::verdict_for(llama2, Use::personal, 800000000).verdict, Verdict::conditions);
}

TEST(License, RecordsCarryTheirDuties) {
  const LicenseTable& t = LicenseTable::builtin();
  for (const auto& r : t.records()) {
    EXPECT_FALSE(r.source.empty()) << r.id;
    EXPECT_FALSE(r.name.empty()) << r.id;
  }
  EXPECT_NE(t.find_id("llama3")->naming.find("Llama 3"), std::string::npos);
  EXPECT_NE(t.find_id("llama3.1")->attribution.find("Built with Llama"), std::string::npos);
  EXPECT_FALSE(t.find_id("gemma")->acceptable_use.empty());
  EXPECT_FALSE(t.find_id("mistral-research")->commercial);
}

TEST(License, LicenseTexts) {
  const LicenseTable& t = LicenseTable::builtin();
  auto id = [&](const char* text) {
    const auto* r = t.match_text(text);
    return r != nullptr ? r->id : std::string("unknown");
  };
  EXPECT_EQ(id("LLAMA 2 COMMUNITY LICENSE AGREEMENT\nLlama 2 Version Release Date: July 18, 2023"), "llama2");
  EXPECT_EQ(id("META LLAMA 3 COMMUNITY LICENSE AGREEMENT\nMeta Llama 3 Version Release Date: April 18, 2024"), "llama3");
  EXPECT_EQ(id("LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024"), "llama3.1");
  EXPECT_EQ(id("\n                                 Apache License\n                           Version 2.0, January 2004\n"),
            "apache-2.0");
  EXPECT_EQ(id("MIT License\n\nCopyright (c) 2023\n\nPermission is hereby granted, free of charge, to any person "
               "obtaining a copy"),
            "mit");
  EXPECT_EQ(id("Gemma Terms of Use\n\nLast modified: February 21, 2024"), "gemma");
  EXPECT_EQ(id("All rights reserved."), "unknown");
}

TEST(License, BaseModelHints) {
  const LicenseTable& t = LicenseTable::builtin();
  EXPECT_EQ(t.match_base_model("meta-llama/Llama-2-7b-hf")->id, "llama2");
  EXPECT_EQ(t.match_base_model("meta-llama/Meta-Llama-3.1-8B-Instruct")->id, "llama3.1");
  EXPECT_EQ(t.match_base_model("meta-llama/Meta-Llama-3-8B")->id, "llama3");
  EXPECT_EQ(t.match_base_model("google/gemma-2-9b")->id, "gemma");
  EXPECT_EQ(t.match_base_model("mistralai/Mistral-7B-v0.1"), nullptr);
}

TEST(License, ModelCardFrontMatter) {
  const auto card = owl::check::parse_model_card(
      "---\nlicense: other\nlicense_name: qwen\nlicense_link: https://huggingface.co/Qwen/Qwen2.5-72B-Instruct/blob/main/LICENSE\n"
      "base_model:\n- Qwen/Qwen2.5-72B\ndatasets: [a/b, 'c/d']\ntags:\n  - chat\n---\n# Title\nlicense: mit\n");
  ASSERT_TRUE(card.has_front_matter);
  EXPECT_EQ(card.license.value_or(""), "other");
  EXPECT_EQ(card.license_name.value_or(""), "qwen");
  EXPECT_EQ(LicenseTable::builtin().match(*card.license_link)->id, "qwen");
  ASSERT_EQ(card.base_models.size(), 1u);
  EXPECT_EQ(card.base_models[0], "Qwen/Qwen2.5-72B");
  EXPECT_EQ(card.datasets, (std::vector<std::string>{"a/b", "c/d"}));
  EXPECT_FALSE(owl::check::parse_model_card("# no front matter\nlicense: mit\n").has_front_matter);
  EXPECT_FALSE(owl::check::parse_model_card("---\nlicense: mit\n").has_front_matter);  // unterminated
}

TEST(License, TableRejectsAmbiguousAliases) {
  EXPECT_THROW(LicenseTable::parse(R"({"licenses": [
      {"id": "a", "name": "A", "kind": "spdx", "personal": true, "research": true, "commercial": true, "source": "x", "aliases": ["same"]},
      {"id": "b", "name": "B", "kind": "spdx", "personal": true, "research": true, "commercial": true, "source": "y", "aliases": ["same"]}]})",
                                   "test"),
               owl::Error);
  EXPECT_THROW(LicenseTable::parse("{", "test"), owl::Error);
}

}  // namespace
