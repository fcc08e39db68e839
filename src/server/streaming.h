// Streaming a Generation to the client as it runs (SSE for OpenAI, NDJSON for Ollama): a writer
// turns each event into bytes; a client that goes away cancels the generation at its next write.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "server/generation.h"

namespace owl::server {

class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  virtual std::string begin() { return {}; }
  virtual std::string event(int index, JobEvent& event) = 0;  // "" to send nothing
  virtual std::string end() = 0;                               // after every choice is done
};

void stream_response(httplib::Response& res, const std::string& content_type, const std::shared_ptr<Generation>& generation,
                     const std::shared_ptr<StreamWriter>& writer);

}  // namespace owl::server
