// The route families of `owl serve`, each in its own file.
#pragma once

#include <httplib.h>

#include "server/server.h"

namespace owl::server {

void add_openai_routes(httplib::Server& http, ServerContext& context);  // openai_api.cpp
void add_ollama_routes(httplib::Server& http, ServerContext& context);  // ollama_api.cpp
void add_ops_routes(httplib::Server& http, ServerContext& context);     // ops_api.cpp
void add_store_routes(httplib::Server& http, ServerContext& context);   // store_api.cpp: pull, delete, copy
void add_webui_routes(httplib::Server& http, ServerContext& context);   // webui.cpp: the chat page at /

// The page and its files: served without an API key (they hold no data; the page asks for the key).
bool is_webui_path(const std::string& path);

}  // namespace owl::server
