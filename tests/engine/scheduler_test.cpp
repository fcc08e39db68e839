// The continuous-batching scheduler against the plain generation loop: the same greedy tokens
// alone, sequentially or beside 7 others; cancellation frees the slot; prefix reuse is counted and
// changes nothing; a long prompt joining does not stall running streams; a full queue refuses.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine/scheduler.h"
#include "models/model_fixtures.h"

namespace {

using namespace std::chrono_literals;

struct Collected {
  std::vector<int32_t> tokens;
  std::vector<int64_t> steps;
  std::string text;
  std::vector<owl::JobEvent> events;  // the token events
  owl::JobEvent done;
};

Collected collect(owl::Job& job) {
  Collected c;
  owl::JobEvent ev;
  for (;;) {
    if (!job.next(ev, 60s)) {
      ADD_FAILURE() << "no event within 60 s";
      return c;
    }
    if (ev.kind == owl::JobEvent::Kind::done) {
      c.done = ev;
      return c;
    }
    c.text += ev.text;
    if (ev.token >= 0) c.tokens.push_back(ev.token), c.steps.push_back(ev.step), c.events.push_back(ev);
  }
}

owl::CompletionRequest greedy(std::vector<int32_t> prompt, int64_t n) {
  owl::CompletionRequest r;
  r.prompt = std::move(prompt);
  r.sampling.temperature = 0;
  r.n_predict = n;
  return r;
}

// The reference: the one-sequence generation loop of owl run.
std::vector<int32_t> reference(const owl::LoadedModel& m, const std::vector<int32_t>& prompt, int64_t n) {
  owl::ThreadPool pool(2);
  owl::Decoder decoder(m.model(), pool);
  owl::KvCache cache(m.spec(), 256);
  owl::SamplingParams sp;
  sp.temperature = 0;
  owl::Sampler sampler(sp);
  owl::GenerateOptions go;
  go.n_predict = n;
  go.stop_tokens = m.stop_tokens();
  std::vector<int32_t> out;
  owl::generate(decoder, cache, sampler, prompt, go, [&](int32_t id) {
    out.push_back(id);
    return true;
  });
  return out;
}

class SchedulerTest : public ::testing::TestWithParam<owl::DType> {
 protected:
  std::unique_ptr<owl::LoadedModel> load() {
    const auto fx = owl_fixtures();
    if (!fx || !std::filesystem::exists(*fx / "llama2c-stories260K")) return nullptr;
    return owl::LoadedModel::load(stories260k_gguf(*fx, GetParam()).string());
  }
  static owl::SchedulerOptions options(int64_t parallel) {
    owl::SchedulerOptions o;
    o.n_parallel = parallel;
    o.n_ctx = 256;
    o.threads = 2;
    return o;
  }
};

const char* const kPrompts[] = {"Once upon a time", "The little dog", "Lily and Ben went to the park",
                                "One day, a big red ball", "Tom had a toy car.", "The sun was hot",
                                "Sara wanted to play", "A cat sat on the mat and"};

TEST_P(SchedulerTest, EightConcurrentGreedyRequestsMatchSequentialAndTheGenerationLoop) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::Scheduler sched(*m, options(8));
  std::vector<std::vector<int32_t>> prompts;
  for (const char* p : kPrompts) prompts.push_back(m->encode_prompt(p));

  std::vector<Collected> sequential;
  for (const auto& p : prompts) sequential.push_back(collect(*sched.submit(greedy(p, 40))));
  std::vector<std::shared_ptr<owl::Job>> jobs;
  for (const auto& p : prompts) jobs.push_back(sched.submit(greedy(p, 40)));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const Collected c = collect(*jobs[i]);
    const std::vector<int32_t> ref = reference(*m, prompts[i], 40);
    EXPECT_EQ(sequential[i].tokens, ref) << kPrompts[i];
    EXPECT_EQ(c.tokens, ref) << kPrompts[i];
    EXPECT_EQ(c.text, sequential[i].text);
    EXPECT_EQ(c.done.stats.n_generated, static_cast<int64_t>(c.tokens.size()));
    EXPECT_EQ(c.done.finish, c.tokens.size() == 40 ? owl::FinishReason::length : owl::FinishReason::stop);
  }
  EXPECT_EQ(sched.metrics().running, 0);
}

TEST_P(SchedulerTest, CancellingFreesTheSlotForTheNextRequest) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::Scheduler sched(*m, options(1));
  const auto prompt = m->encode_prompt("Once upon a time");
  auto first = sched.submit(greedy(prompt, -1));  // would run until the context is full
  owl::JobEvent ev;
  ASSERT_TRUE(first->next(ev, 60s));
  auto second = sched.submit(greedy(prompt, 10));  // waits: the only slot is taken
  EXPECT_EQ(sched.metrics().queued, 1);
  first->cancel();
  const Collected a = collect(*first);
  EXPECT_EQ(a.done.finish, owl::FinishReason::cancelled);
  EXPECT_LT(a.done.stats.n_generated, 200);
  const Collected b = collect(*second);
  EXPECT_EQ(b.tokens, reference(*m, prompt, 10));
  // A request cancelled while it waits never runs.
  auto busy = sched.submit(greedy(prompt, -1));
  ASSERT_TRUE(busy->next(ev, 60s));
  auto waiting = sched.submit(greedy(prompt, 10));
  waiting->cancel();
  busy->cancel();
  EXPECT_EQ(collect(*waiting).done.finish, owl::FinishReason::cancelled);
  EXPECT_EQ(collect(*busy).done.finish, owl::FinishReason::cancelled);
}

TEST_P(SchedulerTest, PrefixReuseIsCountedAndChangesNothing) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::Scheduler sched(*m, options(2));
  const auto system = m->encode_prompt("Once upon a time, there was a little girl named Lily.");
  const Collected first = collect(*sched.submit(greedy(system, 5)));
  EXPECT_EQ(first.done.stats.n_reused, 0);
  auto longer = system;
  for (int32_t t : m->tokenizer().encode(" She liked to play", false)) longer.push_back(t);
  const Collected second = collect(*sched.submit(greedy(longer, 20)));
  EXPECT_EQ(second.done.stats.n_reused, static_cast<int64_t>(system.size()));
  EXPECT_EQ(second.tokens, reference(*m, longer, 20));
  // The same prompt again: everything but the last token is reused.
  const Collected again = collect(*sched.submit(greedy(longer, 20)));
  EXPECT_EQ(again.done.stats.n_reused, static_cast<int64_t>(longer.size()) - 1);
  EXPECT_EQ(again.tokens, second.tokens);
  EXPECT_GT(sched.metrics().prompt_tokens, 0);
}

TEST_P(SchedulerTest, ALongPromptJoiningDoesNotStallRunningStreams) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::SchedulerOptions o = options(2);
  o.prompt_tokens_per_step = 16;
  owl::Scheduler sched(*m, o);
  auto stream_req = greedy(m->encode_prompt("Once upon a time"), 230);  // as long as the slot's context allows
  stream_req.stop_at_end = false;  // runs through the whole join
  auto stream = sched.submit(stream_req);
  owl::JobEvent ev;
  ASSERT_TRUE(stream->next(ev, 60s));
  std::vector<int32_t> long_prompt = m->encode_prompt("Lily and Ben went to the park.");
  while (long_prompt.size() < 200) long_prompt.push_back(long_prompt[1 + long_prompt.size() % 8]);
  const Collected joined = collect(*sched.submit(greedy(long_prompt, 5)));
  const Collected running = collect(*stream);
  ASSERT_FALSE(joined.steps.empty());
  // 200 prompt tokens at 16 a step take 13 steps; the running stream got a token at each of them
  // while it ran (a fast machine, or this thread descheduled after submitting the stream, can let
  // the stream reach its last token during the join: the steps up to that one then count).
  const int64_t first = joined.steps.front(), last = running.steps.back();
  ASSERT_GT(last, first - 13) << "the stream had finished before the long prompt joined";
  int64_t during = 0, expected = 0;
  for (int64_t s : running.steps) during += (s > first - 13 && s <= first) ? 1 : 0;
  for (int64_t s = first - 12; s <= first; ++s) expected += s <= last ? 1 : 0;
  EXPECT_EQ(during, expected);
  EXPECT_GT(during, 0);
  EXPECT_EQ(joined.tokens, reference(*m, long_prompt, 5));
}

TEST_P(SchedulerTest, AFullQueueRefusesAndBadRequestsAreErrors) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::SchedulerOptions o = options(1);
  o.max_queue = 1;
  owl::Scheduler sched(*m, o);
  const auto prompt = m->encode_prompt("Once upon a time");
  auto running = sched.submit(greedy(prompt, -1));
  owl::JobEvent ev;
  ASSERT_TRUE(running->next(ev, 60s));
  auto queued = sched.submit(greedy(prompt, 1));
  EXPECT_THROW(sched.submit(greedy(prompt, 1)), owl::QueueFull);
  running->cancel();
  EXPECT_EQ(collect(*queued).done.finish, owl::FinishReason::length);
  EXPECT_THROW(sched.submit(greedy({}, 1)), owl::Error);
  // A queue of 0 still takes requests that find a free slot.
  owl::SchedulerOptions none = options(2);
  none.max_queue = 0;
  owl::Scheduler direct(*m, none);
  auto a = direct.submit(greedy(prompt, -1));
  auto b = direct.submit(greedy(prompt, -1));
  ASSERT_TRUE(a->next(ev, 60s));
  ASSERT_TRUE(b->next(ev, 60s));
  EXPECT_THROW(direct.submit(greedy(prompt, 1)), owl::QueueFull);
  a->cancel();
  b->cancel();
  EXPECT_THROW(sched.submit(greedy(std::vector<int32_t>(257, 5), 1)), owl::Error);
  EXPECT_THROW(sched.submit(greedy({1, 100000}, 1)), owl::Error);
}

TEST_P(SchedulerTest, StopStringsEndTheTextAndLogprobsDescribeTheChoice) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::Scheduler sched(*m, options(2));
  const auto prompt = m->encode_prompt("Once upon a time");
  auto plain = greedy(prompt, 40);
  plain.continues_prompt = true;
  const Collected full = collect(*sched.submit(plain));
  const std::string stop = full.text.substr(full.text.size() / 2, 4);
  auto req = plain;
  req.stop = {stop};
  req.top_logprobs = 3;
  const Collected cut = collect(*sched.submit(req));
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
  EXPECT_EQ(cut.done.finish, owl::FinishReason::stop);
  // Greedy picks the most likely token: the first of the top 3, with the same log-probability.
  ASSERT_FALSE(cut.events.empty());
  for (const owl::JobEvent& ev : cut.events) {
    ASSERT_EQ(ev.top.size(), 3u);
    EXPECT_EQ(ev.top[0].id, ev.token);
    EXPECT_FLOAT_EQ(ev.top[0].logprob, ev.logprob);
    EXPECT_LE(ev.logprob, 0.0f);
    EXPECT_GE(ev.top[0].logprob, ev.top[1].logprob);
    EXPECT_GE(ev.top[1].logprob, ev.top[2].logprob);
  }
  // Completions continue the prompt's text as owl run prints it (the first leading space kept).
  EXPECT_EQ(full.text, m->tokenizer().decode([&] {
    auto all = prompt;
    all.insert(all.end(), full.tokens.begin(), full.tokens.end());
    return all;
  }()).substr(m->tokenizer().decode(prompt).size()));
}

TEST_P(SchedulerTest, EmbeddingsPoolTheFinalNormedHiddenStates) {
  const auto m = load();
  if (!m) GTEST_SKIP() << "fixtures not found at " << owl_fixtures_wanted();
  owl::Scheduler sched(*m, options(1));
  const auto tokens = m->encode_prompt("Once upon a time");
  const std::vector<float> e = sched.embed(tokens);
  // Reference: the decoder's result_norm activations of every position, mean-pooled.
  owl::ThreadPool pool(1);
  owl::Decoder decoder(m->model(), pool);
  std::vector<float> rows;
  decoder.set_observer([&](std::string_view name, int64_t, const float* data, int64_t n, int64_t width) {
    if (name == "result_norm") rows.assign(data, data + n * width);
  });
  owl::KvCache cache(m->spec(), 64, owl::SchedulerOptions{}.kv_type);  // the scheduler's default cache type
  decoder.eval(cache, tokens, true);
  const int64_t d = m->spec().n_embd;
  ASSERT_EQ(rows.size(), tokens.size() * static_cast<size_t>(d));
  const std::vector<float> ref = owl::pool_embedding(rows.data(), static_cast<int64_t>(tokens.size()), d, owl::Pooling::mean);
  ASSERT_EQ(e.size(), static_cast<size_t>(d));
  double norm = 0;
  for (int64_t i = 0; i < d; ++i) {
    EXPECT_FLOAT_EQ(e[static_cast<size_t>(i)], ref[static_cast<size_t>(i)]);
    norm += e[static_cast<size_t>(i)] * e[static_cast<size_t>(i)];
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_THROW(sched.embed({}), owl::Error);
}

INSTANTIATE_TEST_SUITE_P(Types, SchedulerTest, ::testing::Values(owl::DType::f32, owl::DType::q8_0),
                         [](const auto& p) { return std::string(owl::dtype_name(p.param)); });

}  // namespace
