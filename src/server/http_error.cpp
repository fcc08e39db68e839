// OpenAI's error types by status (see http_error.h).
#include "server/http_error.h"

namespace owl::server {

std::string HttpError::type() const {
  switch (status_) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "invalid_request_error";
    case 429: return "rate_limit_error";
    case 503: return "server_overloaded";
    default: return status_ >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace owl::server
