// An error a route answers with: the HTTP status and the fields of the OpenAI error object
// ({"error": {"message", "type", "param", "code"}}), which the Ollama routes send as {"error": message}.
#pragma once

#include <string>

#include "base/error.h"

namespace owl::server {

class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message, std::string param = "", std::string code = "")
      : Error(message), status_(status), param_(std::move(param)), code_(std::move(code)) {}
  int status() const { return status_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }
  // The OpenAI error type for the status: invalid_request_error, authentication_error, ...
  std::string type() const;

 private:
  int status_;
  std::string param_;
  std::string code_;
};

[[noreturn]] inline void bad_request(const std::string& message, const std::string& param = "") {
  throw HttpError(400, message, param);
}

}  // namespace owl::server
