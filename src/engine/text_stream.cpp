// Stop-string matching over streamed text (see text_stream.h).
#include "engine/text_stream.h"

#include <algorithm>

namespace owl {

TextStream::TextStream(const Tokenizer& tokenizer, std::vector<std::string> stop) : decoder_(tokenizer) {
  for (std::string& s : stop) {
    if (!s.empty()) stop_.push_back(std::move(s));
  }
}

std::string TextStream::feed(int32_t id) {
  if (stopped_) return {};
  pending_ += decoder_.feed(id);
  // The earliest complete stop string ends the text.
  size_t cut = std::string::npos;
  for (const std::string& s : stop_) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    stopped_ = true;
    std::string out = pending_.substr(0, cut);
    pending_.clear();
    return out;
  }
  // Hold back the longest tail that a stop string starts with.
  size_t hold = 0;
  for (const std::string& s : stop_) {
    for (size_t n = std::min(s.size() - 1, pending_.size()); n > hold; --n) {
      if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
        hold = n;
        break;
      }
    }
  }
  std::string out = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return out;
}

std::string TextStream::finish() {
  if (stopped_) return {};
  std::string out = std::move(pending_) + decoder_.finish();
  pending_.clear();
  // A stop string may complete only with the held-back bytes.
  for (const std::string& s : stop_) {
    if (const size_t at = out.find(s); at != std::string::npos) out.resize(at), stopped_ = true;
  }
  return out;
}

}  // namespace owl
