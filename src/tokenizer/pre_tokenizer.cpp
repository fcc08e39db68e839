// Pre-tokenizer steps and the hand-written fast forms of the GPT-2 / Llama 3 / Qwen2 regexes.
// Split behaviours follow HF tokenizers (pre_tokenizers/split.rs, normalizer.rs split); the named
// sets for GGUF tokenizer.ggml.pre are the regex lists of llama.cpp's llm_tokenizer_bpe.
#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

#include "base/error.h"
#include "tokenizer/unicode.h"

namespace owl {

const char* const kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
const char* const kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
const char* const kQwen2Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

namespace {

// Character classes of the fast patterns.
enum class Cls : uint8_t { letter, number, space, other, invalid };

struct Char {
  uint32_t cp;
  size_t len;
  Cls cls;
};

inline Char char_at(std::string_view s, size_t pos) {
  Char c{};
  const auto b = static_cast<uint8_t>(s[pos]);
  if (b < 0x80) {  // ASCII fast path
    c.cp = b;
    c.len = 1;
    if ((b | 0x20) >= 'a' && (b | 0x20) <= 'z') c.cls = Cls::letter;
    else if (b >= '0' && b <= '9') c.cls = Cls::number;
    else if (b == ' ' || (b >= 9 && b <= 13)) c.cls = Cls::space;
    else c.cls = Cls::other;  // punctuation, symbols and the other C0 controls
    return c;
  }
  c.cp = unicode::decode(s, pos, c.len);
  if (c.cp == unicode::kInvalid) {
    c.cls = Cls::invalid;
    return c;
  }
  const uint16_t f = unicode::flags(c.cp);
  c.cls = (f & unicode::kLetter) ? Cls::letter
          : (f & unicode::kNumber) ? Cls::number
          : (f & unicode::kWhitespace) ? Cls::space
                                       : Cls::other;
  return c;
}

size_t skip_class(std::string_view s, size_t pos, Cls cls, size_t max_chars = SIZE_MAX) {
  for (size_t n = 0; pos < s.size() && n < max_chars; ++n) {
    const Char c = char_at(s, pos);
    if (c.cls != cls) break;
    pos += c.len;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd) at s[pos] == '\'', or 0.
size_t contraction(std::string_view s, size_t pos, bool any_case) {
  auto lower = [&](size_t i) -> char {
    if (i >= s.size()) return 0;
    const char c = s[i];
    return any_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
  };
  const char a = lower(pos + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  const char b = lower(pos + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace run starting at pos: the run less its last character when a
// non-space follows and the run has more than one character.
size_t whitespace_end(std::string_view s, size_t pos) {
  size_t last = pos;
  size_t q = pos;
  while (q < s.size()) {
    const Char c = char_at(s, q);
    if (c.cls != Cls::space) break;
    last = q;
    q += c.len;
  }
  if (q == s.size() || last == pos) return q;
  return last;
}

void split_gpt2(std::string_view s, std::vector<Piece>& out) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    Char c = char_at(s, pos);
    if (c.cls == Cls::invalid) {
      pos = skip_class(s, pos, Cls::invalid);
    } else if (c.cp == '\'' && contraction(s, pos, false) > 0) {
      pos += contraction(s, pos, false);
    } else {
      size_t p = pos;
      if (c.cp == ' ' && pos + 1 < s.size()) {
        const Char d = char_at(s, pos + 1);
        if (d.cls == Cls::letter || d.cls == Cls::number || d.cls == Cls::other) {
          p = pos + 1;
          c = d;
        }
      }
      if (c.cls == Cls::space) {
        pos = whitespace_end(s, pos);
      } else {
        pos = skip_class(s, p, c.cls);
      }
    }
    out.push_back(Piece{start, pos});
  }
}

void split_llama3(std::string_view s, std::vector<Piece>& out, size_t max_digits) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    const Char c = char_at(s, pos);
    if (c.cls == Cls::invalid) {
      pos = skip_class(s, pos, Cls::invalid);
    } else if (c.cp == '\'' && contraction(s, pos, true) > 0) {
      pos += contraction(s, pos, true);
    } else if (c.cls == Cls::letter) {
      pos = skip_class(s, pos, Cls::letter);
    } else if (c.cls == Cls::number) {
      pos = skip_class(s, pos, Cls::number, max_digits);
    } else {
      const Char d = pos + c.len < s.size() ? char_at(s, pos + c.len) : Char{0, 0, Cls::invalid};
      if (c.cp != '\r' && c.cp != '\n' && d.len > 0 && d.cls == Cls::letter) {
        pos = skip_class(s, pos + c.len, Cls::letter);  // [^\r\n\p{L}\p{N}]?\p{L}+
      } else if (c.cls == Cls::other || (c.cp == ' ' && d.len > 0 && d.cls == Cls::other)) {
        pos = skip_class(s, c.cls == Cls::other ? pos : pos + 1, Cls::other);  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        while (pos < s.size() && (s[pos] == '\r' || s[pos] == '\n')) ++pos;
      } else {  // whitespace: \s*[\r\n]+ up to the run's last newline, else \s+(?!\S)|\s+
        size_t q = pos;
        size_t after_newline = 0;
        while (q < s.size()) {
          const Char w = char_at(s, q);
          if (w.cls != Cls::space) break;
          q += w.len;
          if (w.cp == '\r' || w.cp == '\n') after_newline = q;
        }
        pos = after_newline > 0 ? after_newline : whitespace_end(s, pos);
      }
    }
    out.push_back(Piece{start, pos});
  }
}

bool bert_punctuation(uint32_t cp) {
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return cp != unicode::kInvalid && (unicode::flags(cp) & unicode::kPunctuation) != 0;
}

}  // namespace

void fast_split(FastPattern pattern, std::string_view s, std::vector<Piece>& out) {
  switch (pattern) {
    case FastPattern::gpt2: split_gpt2(s, out); break;
    case FastPattern::llama3: split_llama3(s, out, 3); break;
    case FastPattern::qwen2: split_llama3(s, out, 1); break;
  }
}

struct PreTokenizer::Step {
  enum class Kind { regex, fast, literal, whitespace_split, punctuation, digits, bert } kind;
  SplitBehavior behavior = SplitBehavior::isolated;
  bool invert = false;
  FastPattern fast = FastPattern::gpt2;
  std::unique_ptr<Regex> regex;
  std::string literal;
  bool individual = false;

  // Matches (is_match = true) and the text between them, covering s.
  void find(std::string_view s, std::vector<Piece>& matches) const {
    switch (kind) {
      case Kind::regex: {
        std::vector<Regex::Span> spans;
        regex->find_all(s, spans);
        for (const auto& m : spans) matches.push_back(Piece{m.begin, m.end});
        break;
      }
      case Kind::fast: fast_split(fast, s, matches); break;
      case Kind::literal:
        if (literal.empty()) break;
        for (size_t p = s.find(literal); p != std::string_view::npos; p = s.find(literal, p + literal.size())) {
          matches.push_back(Piece{p, p + literal.size()});
        }
        break;
      default: {  // one match per character of a class
        for (size_t pos = 0; pos < s.size();) {
          size_t len = 0;
          const uint32_t cp = unicode::decode(s, pos, len);
          bool hit = false;
          const uint16_t f = cp == unicode::kInvalid ? 0 : unicode::flags(cp);
          if (kind == Kind::whitespace_split) hit = (f & unicode::kWhitespace) != 0;
          else if (kind == Kind::punctuation) hit = bert_punctuation(cp) || (cp < 0x7F && (f & unicode::kSymbol));
          else if (kind == Kind::digits) hit = (f & unicode::kNumber) != 0;
          if (hit) matches.push_back(Piece{pos, pos + len});
          pos += len;
        }
      }
    }
  }

  void apply(std::string_view text, const Piece& piece, std::vector<Piece>& out, std::vector<Piece>& scratch) const {
    const std::string_view s = text.substr(piece.begin, piece.end - piece.begin);
    scratch.clear();
    find(s, scratch);
    // Sequence of (span, is_match) covering s.
    struct Part {
      size_t b, e;
      bool match;
    };
    std::vector<Part> parts;
    size_t prev = 0;
    for (const Piece& m : scratch) {
      if (m.begin > prev) parts.push_back(Part{prev, m.begin, invert});
      parts.push_back(Part{m.begin, m.end, !invert});
      prev = m.end;
    }
    if (prev < s.size()) parts.push_back(Part{prev, s.size(), invert});
    auto emit = [&](size_t b, size_t e) {
      if (e > b) out.push_back(Piece{piece.begin + b, piece.begin + e});
    };
    switch (behavior) {
      case SplitBehavior::isolated:
        for (const Part& p : parts) emit(p.b, p.e);
        break;
      case SplitBehavior::removed:
        for (const Part& p : parts) {
          if (!p.match) emit(p.b, p.e);
        }
        break;
      case SplitBehavior::merged_with_previous: {
        size_t start = 0;
        for (const Part& p : parts) {
          if (p.match) {
            emit(start, p.e);
            start = p.e;
          }
        }
        emit(start, s.size());
        break;
      }
      case SplitBehavior::merged_with_next: {
        size_t start = 0;
        for (const Part& p : parts) {
          if (p.match && p.b > start) {
            emit(start, p.b);
            start = p.b;
          }
        }
        emit(start, s.size());
        break;
      }
      case SplitBehavior::contiguous: {
        size_t i = 0;
        while (i < parts.size()) {
          size_t j = i + 1;
          if (parts[i].match) {
            while (j < parts.size() && parts[j].match) ++j;
          }
          emit(parts[i].b, parts[j - 1].e);
          i = j;
        }
        break;
      }
    }
  }
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

void PreTokenizer::add_regex(std::string_view pattern, SplitBehavior behavior, bool invert, std::string_view source) {
  if (behavior == SplitBehavior::isolated && !invert) {
    if (pattern == kGpt2Pattern) return add_fast(FastPattern::gpt2);
    if (pattern == kLlama3Pattern) return add_fast(FastPattern::llama3);
    if (pattern == kQwen2Pattern) return add_fast(FastPattern::qwen2);
  }
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::regex;
  step->behavior = behavior;
  step->invert = invert;
  step->regex = std::make_unique<Regex>(pattern, source);
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_fast(FastPattern pattern) {
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::fast;
  step->fast = pattern;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_literal(std::string_view delimiter, SplitBehavior behavior, bool invert) {
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::literal;
  step->literal = delimiter;
  step->behavior = behavior;
  step->invert = invert;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_whitespace_split() {
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::whitespace_split;
  step->behavior = SplitBehavior::removed;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_whitespace() { add_regex(R"(\w+|[^\w\s]+)", SplitBehavior::removed, true, "Whitespace"); }

void PreTokenizer::add_punctuation(SplitBehavior behavior) {
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::punctuation;
  step->behavior = behavior;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_digits(bool individual) {
  auto step = std::make_unique<Step>();
  step->kind = Step::Kind::digits;
  step->behavior = individual ? SplitBehavior::isolated : SplitBehavior::contiguous;
  steps_.push_back(std::move(step));
}

void PreTokenizer::add_bert() {
  add_whitespace_split();
  add_punctuation(SplitBehavior::isolated);
}

void PreTokenizer::split(std::string_view text, std::vector<Piece>& pieces) const {
  pieces.clear();
  if (text.empty()) return;
  if (steps_.empty()) {
    pieces.push_back(Piece{0, text.size()});
    return;
  }
  if (steps_.size() == 1 && steps_[0]->kind == Step::Kind::fast) {  // the common case, without copies
    fast_split(steps_[0]->fast, text, pieces);
    return;
  }
  std::vector<Piece> current{Piece{0, text.size()}};
  std::vector<Piece> scratch;
  for (const auto& step : steps_) {
    pieces.clear();
    for (const Piece& p : current) step->apply(text, p, pieces, scratch);
    current.swap(pieces);
  }
  pieces.swap(current);
}

bool PreTokenizer::same_steps(const PreTokenizer& other) const {
  if (steps_.size() != other.steps_.size()) return false;
  for (size_t i = 0; i < steps_.size(); ++i) {
    const Step& a = *steps_[i];
    const Step& b = *other.steps_[i];
    if (a.kind != b.kind || a.behavior != b.behavior || a.invert != b.invert) return false;
    if (a.kind == Step::Kind::fast && a.fast != b.fast) return false;
    if (a.kind == Step::Kind::regex && a.regex->pattern() != b.regex->pattern()) return false;
    if (a.kind == Step::Kind::literal && a.literal != b.literal) return false;
  }
  return true;
}

std::string PreTokenizer::describe() const {
  static constexpr const char* kFast[] = {"gpt2", "llama3", "qwen2"};
  static constexpr const char* kBehavior[] = {"isolated", "removed", "merged_with_previous", "merged_with_next",
                                              "contiguous"};
  std::string out;
  for (const auto& step : steps_) {
    if (!out.empty()) out += ", ";
    switch (step->kind) {
      case Step::Kind::regex: out += "regex '" + step->regex->pattern() + "'"; break;
      case Step::Kind::fast: out += std::string("fast ") + kFast[static_cast<int>(step->fast)]; break;
      case Step::Kind::literal: out += "literal '" + step->literal + "'"; break;
      case Step::Kind::whitespace_split: out += "whitespace split"; break;
      case Step::Kind::punctuation: out += "punctuation"; break;
      case Step::Kind::digits: out += "digits"; break;
      case Step::Kind::bert: out += "bert"; break;
    }
    if (step->kind != Step::Kind::fast) out += std::string(" ") + kBehavior[static_cast<int>(step->behavior)];
    if (step->invert) out += " inverted";
  }
  return out.empty() ? "none" : out;
}

std::optional<std::vector<PreTokenizer::RegexSplit>> PreTokenizer::regex_splits() const {
  const char* const fast_patterns[] = {kGpt2Pattern, kLlama3Pattern, kQwen2Pattern};  // in FastPattern order
  std::vector<RegexSplit> out;
  for (const auto& step : steps_) {
    if (step->kind == Step::Kind::fast) {
      out.push_back(RegexSplit{fast_patterns[static_cast<int>(step->fast)], SplitBehavior::isolated, false});
    } else if (step->kind == Step::Kind::regex) {
      out.push_back(RegexSplit{step->regex->pattern(), step->behavior, step->invert});
    } else {
      return std::nullopt;
    }
  }
  return out;
}

PreTokenizer PreTokenizer::from_gguf_pre(std::string_view pre, std::string_view source, bool& ignore_merges, bool& nfc) {
  PreTokenizer p;
  ignore_merges = false;
  nfc = false;
  auto regexes = [&](std::initializer_list<const char*> list) {
    for (const char* r : list) p.add_regex(r, SplitBehavior::isolated, false, source);
  };
  auto is = [&](std::initializer_list<std::string_view> names) {
    return std::find(names.begin(), names.end(), pre) != names.end();
  };
  if (is({"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"})) {
    p.add_fast(FastPattern::llama3);
    ignore_merges = true;
  } else if (is({"dbrx", "smaug-bpe", "chatglm-bpe", "chatglm4"})) {
    p.add_fast(FastPattern::llama3);
  } else if (is({"qwen2", "stablelm2", "deepseek-r1-qwen", "megrez", "hunyuan"})) {
    p.add_fast(FastPattern::qwen2);
    nfc = pre != "stablelm2";
  } else if (is({"gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v1-en", "jina-v2-es", "jina-v2-de",
                 "jina-v2-code", "roberta-bpe", "olmo", "jais", "mpt", "trillion", "granite-docling"})) {
    p.add_fast(FastPattern::gpt2);
    nfc = pre == "mpt";
  } else if (is({"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"})) {
    regexes({R"(\p{N})"});
    p.add_fast(FastPattern::gpt2);
  } else if (pre == "falcon") {
    regexes({R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2Pattern, "[0-9][0-9][0-9]"});
  } else if (pre == "deepseek-llm") {
    regexes({"[\r\n]",  // NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one pattern spans the lines below
             "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-"
             "ὗὙὛὝὟ-\\x{1F7D}ᾀ-ᾴᾶ-ᾼ\\x{1FBE}ῂ-ῄῆ-ῌῐ-\\x{1FD3}ῖ-\\x{1FDB}ῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤ\\x{2126}ℨ\\x{212A}-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-"
             "ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
             "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"});
  } else if (pre == "deepseek-coder") {
    regexes({"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"});
  } else if (is({"deepseek-v3", "hunyuan-dense"})) {
    regexes({"\\p{N}{1,3}", "[一-龥぀-ゟ゠-ヿ]+",
             "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
             "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"});
  } else if (is({"poro-chat", "bloom", "gpt3-finnish"})) {
    regexes({" ?[^(\\s|.,!?…。，、।۔،)]+"});
  } else if (pre == "viking") {
    regexes({" ?[^(\\s|.,!?…。，、।۔،)]+", "\\p{N}"});
  } else if (pre == "tekken") {
    regexes({"[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?"
             "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|"
             "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"});
  } else if (is({"", "default"})) {
    regexes({R"([\p{P}\$\+<=>\^~\|]+)", kGpt2Pattern, R"(\p{N}+)", "[0-9][0-9][0-9]"});
  } else {
    fail("{}: metadata 'tokenizer.ggml.pre': pre-tokenizer '{}' is not supported", source, pre);
  }
  return p;
}

}  // namespace owl
