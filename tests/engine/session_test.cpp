// Session prefix reuse: a second turn re-evaluates only the new tokens and generates exactly what
// a fresh session generates for the same conversation.
#include <gtest/gtest.h>

#include "base/error.h"
#include "engine/session.h"
#include "models/model_fixtures.h"

namespace {

std::vector<int32_t> run(owl::Session& s, const std::vector<int32_t>& tokens, int n) {
  owl::SamplingParams sp;
  sp.temperature = 0;
  owl::Sampler sampler(sp);
  owl::GenerateOptions go;
  go.n_predict = n;
  std::vector<int32_t> out;
  s.generate(tokens, sampler, go, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  return out;
}

TEST(Session, SecondTurnReusesTheCachedPrefix) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  owl::ThreadPool pool(2);
  owl::Session chat(*model, pool, 256);
  std::vector<int32_t> conversation = {1, 410, 469, 347};
  const auto first = run(chat, conversation, 10);
  ASSERT_EQ(first.size(), 10u);
  EXPECT_EQ(chat.cached_tokens().size(), conversation.size() + 9);  // the last reply token is not evaluated yet

  conversation.insert(conversation.end(), first.begin(), first.end());
  conversation.insert(conversation.end(), {403, 407});  // the "user" adds two tokens
  const auto second = run(chat, conversation, 10);
  EXPECT_EQ(chat.n_reused(), 4 + 9);

  owl::Session fresh(*model, pool, 256);
  EXPECT_EQ(run(fresh, conversation, 10), second);
  EXPECT_EQ(fresh.n_reused(), 0);

  // Editing history (a shorter, different conversation) truncates to the common prefix.
  const std::vector<int32_t> edited = {1, 410, 261};
  const auto third = run(chat, edited, 5);
  EXPECT_EQ(chat.n_reused(), 2);
  owl::Session fresh2(*model, pool, 256);
  EXPECT_EQ(run(fresh2, edited, 5), third);
  EXPECT_THROW(run(chat, std::vector<int32_t>(300, 5), 1), owl::Error);
}

TEST(Session, PenaltiesSeeTheConversationOncePerTurn) {
  OWL_REQUIRE_FIXTURE(dir, "llama2c-stories260K");
  const auto model = owl::Model::load(stories260k_gguf(fixtures, owl::DType::f32).string());
  owl::ThreadPool pool(1);
  owl::Session chat(*model, pool, 256);
  owl::SamplingParams sp;
  sp.temperature = 0;
  sp.repeat_penalty = 1.3f;
  sp.frequency_penalty = 0.5f;
  sp.penalty_last_n = -1;
  owl::Sampler sampler(sp);
  owl::GenerateOptions go;
  go.n_predict = 5;
  std::vector<int32_t> conversation = {1, 410, 469, 347};
  std::vector<int32_t> reply;
  auto keep = [&](int32_t id) {
    reply.push_back(id);
    return true;
  };
  chat.generate(conversation, sampler, go, keep);
  conversation.insert(conversation.end(), reply.begin(), reply.end());
  conversation.push_back(403);
  reply.clear();
  chat.generate(conversation, sampler, go, keep);

  owl::Sampler once(sp);  // the conversation and the second reply, each token accepted once
  for (int32_t t : conversation) once.accept(t);
  for (int32_t t : reply) once.accept(t);
  std::vector<float> a(512, 1.0f), b(512, 1.0f);
  sampler.apply_penalties(a);
  once.apply_penalties(b);
  EXPECT_EQ(a, b);
}

}  // namespace
