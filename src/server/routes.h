// The three route families of `owl serve`, each in its own file.
#pragma once

#include <httplib.h>

#include "server/server.h"

namespace owl::server {

void add_openai_routes(httplib::Server& http, ServerContext& context);  // openai_api.cpp
void add_ollama_routes(httplib::Server& http, ServerContext& context);  // ollama_api.cpp
void add_ops_routes(httplib::Server& http, ServerContext& context);     // ops_api.cpp

}  // namespace owl::server
