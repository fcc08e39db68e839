// bench_tokenizer: encode speed of each tokenizer family on ~10 MB of mixed-language text (fixture
// prose, code, chat templates, CJK / Cyrillic / emoji test strings), single-threaded, thread CPU
// time, best of 3. Usage: bench_tokenizer [FIXTURES_DIR] [MB]. Prints one line per tokenizer.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path fixtures = argc > 1 ? argv[1] : "../shared/fixtures";
  const double mb = argc > 2 ? std::stod(argv[2]) : 10.0;
  if (!fs::is_directory(fixtures)) {
    std::fprintf(stderr, "fixtures not found at %s\n", fixtures.c_str());
    return 1;
  }
  std::string corpus;
  for (const auto& e : fs::recursive_directory_iterator(fixtures)) {
    const std::string ext = e.path().extension().string();
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && (ext == ".md" || ext == ".jinja" || ext == ".inp" || name.starts_with("LICEN"))) {
      corpus += read_all(e.path());
    }
  }
  // U+2581 would decode as a space through SentencePiece; keep it out so round trips are exact.
  // (Built anew rather than replaced in place: g++ 12 reports a false -Wrestrict on replace().)
  std::string cleaned;
  cleaned.reserve(corpus.size());
  for (size_t i = 0; i < corpus.size();) {
    if (corpus.compare(i, 3, "\xE2\x96\x81") == 0) {
      cleaned += '_';
      i += 3;
    } else {
      cleaned += corpus[i++];
    }
  }
  corpus = std::move(cleaned);
  std::string text;
  const auto target = static_cast<size_t>(mb * 1e6);
  while (text.size() < target) text += corpus;
  text.resize(target);
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty() && static_cast<unsigned char>(text.back()) >= 0xC0) text.pop_back();
  std::printf("text: %.2f MB (%.2f MB distinct, repeated), single thread, best of 3\n", text.size() / 1e6, corpus.size() / 1e6);

  struct Entry {
    const char* name;
    fs::path path;
  };
  const std::vector<Entry> entries = {
      {"spm (llama-spm GGUF)", fixtures / "llamacpp-vocab/ggml-vocab-llama-spm.gguf"},
      {"spm (mistral v3 tokenizer.model)", fixtures / "mistral-common/mistral_instruct_tokenizer_240323.model.v3"},
      {"bpe gpt-2 (GGUF)", fixtures / "llamacpp-vocab/ggml-vocab-gpt-2.gguf"},
      {"bpe llama3 (tiktoken)", fixtures / "llama3-tiktoken/tokenizer.model"},
      {"bpe qwen2 (vocab.json + merges, NFC)", fixtures / "qwen2-tokenizer"},
      {"bpe deepseek-llm (GGUF, PCRE2 regexes)", fixtures / "llamacpp-vocab/ggml-vocab-deepseek-llm.gguf"},
      {"bpe starcoder (GGUF)", fixtures / "llamacpp-vocab/ggml-vocab-starcoder.gguf"},
      {"wordpiece bert-bge (GGUF)", fixtures / "llamacpp-vocab/ggml-vocab-bert-bge.gguf"},
  };
  for (const Entry& e : entries) {
    if (!fs::exists(e.path)) continue;
    const auto tok = owl::Tokenizer::from_file(e.path.string());
    double best = 1e30;
    double decode_best = 1e30;
    size_t n_ids = 0;
    bool round_trip = true;
    for (int rep = 0; rep < 3; ++rep) {
      const double t0 = cpu_seconds();
      const std::vector<int32_t> ids = tok->encode(text, false);
      const double t1 = cpu_seconds();
      const std::string back = tok->decode(ids);
      const double t2 = cpu_seconds();
      best = std::min(best, t1 - t0);
      decode_best = std::min(decode_best, t2 - t1);
      n_ids = ids.size();
      round_trip = tok->lossless() ? back == text : true;
    }
    std::printf("%-42s encode %6.1f MB/s  decode %7.1f MB/s  %zu ids%s\n", e.name, text.size() / 1e6 / best,
                text.size() / 1e6 / decode_best, n_ids, round_trip ? "" : "  (round trip differs!)");
    std::fflush(stdout);
  }
  return 0;
}
