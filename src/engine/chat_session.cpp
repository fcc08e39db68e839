// The turn loop of a conversation (see chat_session.h).
#include "engine/chat_session.h"

#include <algorithm>

#include "base/error.h"

namespace owl {

using Json = nlohmann::ordered_json;

ChatSession::ChatSession(const LoadedModel& model, ThreadPool& pool, int64_t n_ctx, DType kv_type)
    : model_(model), session_(model.model(), pool, n_ctx, kv_type) {}

void ChatSession::set_system(const std::string& text) {
  if (!messages_.empty() && messages_[0]["role"] == "system") messages_.erase(messages_.begin());
  if (!text.empty()) messages_.insert(messages_.begin(), Json{{"role", "system"}, {"content", text}});
}

std::string ChatSession::system() const {
  if (!messages_.empty() && messages_[0]["role"] == "system" && messages_[0]["content"].is_string()) {
    return messages_[0]["content"].get<std::string>();
  }
  return "";
}

void ChatSession::clear() {
  const std::string sys = system();
  messages_ = Json::array();
  set_system(sys);
  session_.clear();
}

void ChatSession::set_messages(Json messages) {
  chat::check_messages(messages);
  messages_ = std::move(messages);
}

void ChatSession::set_context_shift(bool on, int64_t reserve) {
  shift_ = on;
  reserve_ = std::max<int64_t>(reserve, 0);
}

ChatSession::Reply ChatSession::send(const std::string& user, Sampler& sampler, int64_t n_predict,
                                     const std::function<bool(const std::string&)>& on_text,
                                     const std::vector<std::string>& stop) {
  Json next = messages_;
  next.push_back(Json{{"role", "user"}, {"content", user}});
  std::vector<int32_t> prompt = model_.encode_chat(next);
  Reply reply;
  const int64_t room = std::min(reserve_, session_.n_ctx() / 2);
  const size_t first = !next.empty() && next[0]["role"] == "system" ? 1 : 0;
  while (shift_ && static_cast<int64_t>(prompt.size()) + room > session_.n_ctx() && next.size() > first + 1) {
    size_t end = first + 1;  // the oldest turn: up to the next user message (the new one at the latest)
    while (end + 1 < next.size() && next[end]["role"] != "user") ++end;
    next.erase(next.begin() + static_cast<ptrdiff_t>(first), next.begin() + static_cast<ptrdiff_t>(end));
    reply.dropped += end - first;
    prompt = model_.encode_chat(next);
  }
  if (static_cast<int64_t>(prompt.size()) >= session_.n_ctx()) {
    fail("the context is full ({} tokens of {}): clear the conversation or use a larger context", prompt.size(),
         session_.n_ctx());
  }
  GenerateOptions go;
  go.n_predict = n_predict;
  go.stop_tokens = model_.stop_tokens();
  TextStream out(model_.tokenizer(), stop);
  reply.stats = session_.generate(prompt, sampler, go, [&](int32_t id) {
    const std::string piece = out.feed(id);
    reply.text += piece;
    const bool go_on = piece.empty() || on_text(piece);
    return go_on && !out.stopped();
  });
  const std::string rest = out.finish();
  reply.text += rest;
  if (!rest.empty()) on_text(rest);
  next.push_back(Json{{"role", "assistant"}, {"content", reply.text}});
  messages_ = std::move(next);
  return reply;
}

}  // namespace owl
