// PCRE2 wrapper (see regex.h). Options follow what Hugging Face tokenizers'
// regexes mean on Unicode text: UTF, UCP (Unicode properties for \s \d \w and POSIX classes), and
// PCRE2_MATCH_INVALID_UTF so that arbitrary bytes can be split without a crash.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "base/regex.h"

#include <pcre2.h>

#include "base/error.h"

namespace owl {

struct Regex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() {
    if (code != nullptr) pcre2_code_free(code);
  }
};

Regex::Regex(std::string_view pattern, std::string_view source) : impl_(std::make_unique<Impl>()), pattern_(pattern) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    fail("{}: regex '{}': {} (at offset {})", source, pattern, reinterpret_cast<const char*>(message), offset);
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter when JIT is unavailable
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

void Regex::find_all(std::string_view s, std::vector<Span>& out) const {
  struct MatchData {
    pcre2_match_data* p;
    ~MatchData() { pcre2_match_data_free(p); }
  } md{pcre2_match_data_create_from_pattern(impl_->code, nullptr)};
  if (md.p == nullptr) fail("regex '{}': out of memory", pattern_);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t start = 0;
  while (start <= s.size()) {
    const int rc = pcre2_match(impl_->code, subject, s.size(), start, 0, md.p, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      fail("regex '{}': match failed: {}", pattern_, reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md.p);
    const size_t b = ov[0];
    const size_t e = ov[1];
    if (e > b) {
      out.push_back(Span{b, e});
      start = e;
    } else {  // empty match: step over one character
      start = b + 1;
      while (start < s.size() && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) ++start;
    }
  }
}

}  // namespace owl
