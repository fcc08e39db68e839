// The chunked-response pump (see streaming.h).
#include "server/streaming.h"

namespace owl::server {

void stream_response(httplib::Response& res, const std::string& content_type, const std::shared_ptr<Generation>& generation,
                     const std::shared_ptr<StreamWriter>& writer) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider(
      content_type,
      [generation, writer](size_t, httplib::DataSink& sink) {
        // httplib calls this outside its own exception handling: nothing may escape.
        try {
          auto send = [&](const std::string& bytes) { return bytes.empty() || sink.write(bytes.data(), bytes.size()); };
          if (!send(writer->begin())) {
            generation->cancel();
            return false;
          }
          int index = 0;
          JobEvent ev;
          while (!generation->done()) {
            if (!generation->next(index, ev, std::chrono::milliseconds(200))) continue;
            if (!send(writer->event(index, ev))) {
              generation->cancel();
              return false;
            }
          }
          if (!send(writer->end())) return false;
          sink.done();
          return true;
        } catch (...) {
          generation->cancel();
          return false;
        }
      },
      [generation](bool success) {
        if (!success) generation->cancel();
      });
}

}  // namespace owl::server
