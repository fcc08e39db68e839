// libFuzzer harness for tokenizer loading (owl::Tokenizer::from_file): the input is written as
// tokenizer.json in an otherwise empty directory and loaded; an accepted tokenizer encodes a few
// awkward texts and decodes them whole and streamed, which must agree.
#include <string_view>
#include <vector>

#include "base/error.h"
#include "fuzz_common.h"
#include "tokenizer/tokenizer.h"

namespace {

// Texts that reach the unusual paths: specials spelled out, whitespace runs, combining marks, CJK,
// emoji, a lone continuation byte, a truncated sequence and an overlong encoding.
constexpr std::string_view kTexts[] = {
    "Hello world! It's 2024-06-01, 3.14159 \"quoted\"\n\n\tend  ",
    "<s>[INST] <|im_start|>user\n<unk></s> <|endoftext|>##ing [CLS] [SEP] <pad>",
    "e\xcc\x81 \xef\xac\x81 \xe2\x84\xab \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e "
    "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
    std::string_view("\x80 ab\xe6\x97 \xc0\xaf \x00 z\xff", 14),
    "",
    "                                                                x",
};

void exercise(const owl::Tokenizer& tok) {
  const int32_t n = tok.n_vocab();
  OWL_FUZZ_CHECK(n >= 0);
  OWL_FUZZ_CHECK(tok.bos() >= -1 && tok.bos() < n);
  OWL_FUZZ_CHECK(tok.eos() >= -1 && tok.eos() < n);
  owl::fuzz::keep(tok.kind());
  for (int32_t id : {0, 1, n / 2, n - 1}) {
    if (id < 0 || id >= n) continue;
    owl::fuzz::keep(tok.piece(id).size());
    owl::fuzz::keep(tok.token_to_piece(id).size());
    owl::fuzz::keep(tok.token_type(id));
    owl::fuzz::keep(tok.is_end_of_generation(id));
  }
  for (std::string_view text : kTexts) {
    for (int mode = 0; mode < 3; ++mode) {
      std::vector<int32_t> ids =
          mode == 2 ? tok.encode_with_specials(text, true) : tok.encode(text, mode == 1, mode == 1);
      for (int32_t id : ids) OWL_FUZZ_CHECK(id >= 0 && id < n);
      const std::string whole = tok.decode(ids);
      owl::StreamDecoder stream(tok);
      std::string streamed;
      for (int32_t id : ids) streamed += stream.feed(id);
      streamed += stream.finish();
      OWL_FUZZ_CHECK(streamed == whole);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string input = owl::fuzz::scratch_path("tokenizer.json");
  owl::fuzz::write_file(input, data, size);
  std::unique_ptr<owl::Tokenizer> tok;
  try {
    tok = owl::Tokenizer::from_file(input);
  } catch (const owl::Error& e) {
    owl::fuzz::refused(e);
    return 0;  // the expected answer to most inputs
  }
  try {
    exercise(*tok);
  } catch (const owl::Error& e) {
    owl::fuzz::refused(e);  // a loaded tokenizer may still refuse a text (a byte it has no token for)
  }
  return 0;
}
