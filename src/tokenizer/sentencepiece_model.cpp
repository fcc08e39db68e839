// SentencePiece ModelProto parsing over the protobuf wire format (varints, fixed32, length-delimited
// fields). Field numbers from sentencepiece_model.proto: ModelProto.pieces = 1, trainer_spec = 2,
// normalizer_spec = 3; SentencePiece.piece = 1, score = 2, type = 3 (GGUF's token-type numbering).
#include "tokenizer/sentencepiece_model.h"

#include <cstring>

#include "base/error.h"

namespace owl {

namespace {

class Wire {
 public:
  Wire(std::string_view data, const std::string& path, std::string_view where) : d_(data), path_(path), where_(where) {}
  bool done() const { return pos_ >= d_.size(); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= d_.size()) bad("truncated varint");
      const auto b = static_cast<uint8_t>(d_[pos_++]);
      v |= uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    bad("varint longer than 10 bytes");
  }
  std::string_view bytes() {
    const uint64_t n = varint();
    if (n > d_.size() - pos_) bad("length-delimited field runs past the end");
    const std::string_view s = d_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint32_t fixed32() {
    if (d_.size() - pos_ < 4) bad("truncated fixed32");
    uint32_t v = 0;
    std::memcpy(&v, d_.data() + pos_, 4);
    pos_ += 4;
    return v;
  }
  void skip(uint32_t wire_type) {
    switch (wire_type) {
      case 0: varint(); break;
      case 1:
        if (d_.size() - pos_ < 8) bad("truncated fixed64");
        pos_ += 8;
        break;
      case 2: bytes(); break;
      case 5: fixed32(); break;
      default: bad(fmt::format("unsupported wire type {}", wire_type));
    }
  }
  [[noreturn]] void bad(const std::string& what) const {
    fail("{}: not a valid SentencePiece model: {} in {} at byte {}", path_, what, where_, pos_);
  }

 private:
  std::string_view d_;
  size_t pos_ = 0;
  const std::string& path_;
  std::string_view where_;
};

int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<int64_t>(v)); }

}  // namespace

SentencePieceModel parse_sentencepiece_model(std::string_view bytes, const std::string& path) {
  SentencePieceModel m;
  m.vocab.source = path;
  int32_t unk = 0;
  int32_t bos = 1;
  int32_t eos = 2;
  int32_t pad = -1;
  Wire top(bytes, path, "ModelProto");
  while (!top.done()) {
    const uint64_t tag = top.varint();
    const auto field = static_cast<uint32_t>(tag >> 3);
    const auto wire = static_cast<uint32_t>(tag & 7);
    if (field == 1 && wire == 2) {
      Wire p(top.bytes(), path, "SentencePiece");
      std::string piece;
      float score = 0;
      int32_t type = 1;
      while (!p.done()) {
        const uint64_t t = p.varint();
        const auto f = static_cast<uint32_t>(t >> 3);
        const auto w = static_cast<uint32_t>(t & 7);
        if (f == 1 && w == 2) piece = std::string(p.bytes());
        else if (f == 2 && w == 5) {
          const uint32_t raw = p.fixed32();
          std::memcpy(&score, &raw, 4);
        } else if (f == 3 && w == 0) type = as_int32(p.varint());
        else p.skip(w);
      }
      if (type < 1 || type > 6) p.bad(fmt::format("piece {} has unknown type {}", m.vocab.tokens.size(), type));
      m.vocab.tokens.push_back(std::move(piece));
      m.vocab.scores.push_back(score);
      m.vocab.types.push_back(static_cast<TokenType>(type));
    } else if (field == 2 && wire == 2) {
      Wire t(top.bytes(), path, "TrainerSpec");
      while (!t.done()) {
        const uint64_t g = t.varint();
        const auto f = static_cast<uint32_t>(g >> 3);
        const auto w = static_cast<uint32_t>(g & 7);
        if (w != 0) {
          t.skip(w);
          continue;
        }
        const uint64_t v = t.varint();
        if (f == 3) m.model_type = as_int32(v);
        else if (f == 35) m.byte_fallback = v != 0;
        else if (f == 40) unk = as_int32(v);
        else if (f == 41) bos = as_int32(v);
        else if (f == 42) eos = as_int32(v);
        else if (f == 43) pad = as_int32(v);
      }
    } else if (field == 3 && wire == 2) {
      Wire n(top.bytes(), path, "NormalizerSpec");
      while (!n.done()) {
        const uint64_t g = n.varint();
        const auto f = static_cast<uint32_t>(g >> 3);
        const auto w = static_cast<uint32_t>(g & 7);
        if (f == 1 && w == 2) m.normalizer_name = std::string(n.bytes());
        else if (f == 3 && w == 0) m.add_dummy_prefix = n.varint() != 0;
        else if (f == 4 && w == 0) m.remove_extra_whitespaces = n.varint() != 0;
        else n.skip(w);
      }
    } else {
      top.skip(wire);
    }
  }
  if (m.vocab.tokens.empty()) fail("{}: not a valid SentencePiece model: it holds no pieces", path);
  const auto n = static_cast<int32_t>(m.vocab.tokens.size());
  auto id_or_none = [&](int32_t id) { return id >= 0 && id < n ? id : -1; };
  m.unk_id = unk;
  m.vocab.unk = id_or_none(unk);
  m.vocab.bos = id_or_none(bos);
  m.vocab.eos = id_or_none(eos);
  m.vocab.pad = id_or_none(pad);
  m.vocab.model = m.model_type == 2 ? "llama" : "unigram";
  m.vocab.add_space_prefix = m.add_dummy_prefix;
  m.vocab.add_bos = true;
  m.vocab.add_eos = false;
  return m;
}

}  // namespace owl
