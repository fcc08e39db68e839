// The web chat page (webui/, compiled in by CMakeLists.txt): served at / with a strict
// Content-Security-Policy, so that nothing but owl's own script and style runs or loads, whatever
// text the model produces.
#include "base/embedded_text.h"
#include "server/respond.h"
#include "server/routes.h"

#include "owl_webui.h"

namespace owl::server {

namespace {
void send_static(httplib::Response& res, std::string_view body, const char* type) {
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
                 "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::string(body), type);
}
}  // namespace

bool is_webui_path(const std::string& path) { return path == "/" || path.starts_with("/ui/"); }

void add_webui_routes(httplib::Server& http, ServerContext& ctx) {
  if (!ctx.options.webui) {
    http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("owl is running", "text/plain"); });
    return;
  }
  http.Get("/", [](const httplib::Request&, httplib::Response& res) {
    send_static(res, embedded_text(kWebui_index_html), "text/html; charset=utf-8");
  });
  http.Get("/ui/app.js", [](const httplib::Request&, httplib::Response& res) {
    send_static(res, embedded_text(kWebui_app_js), "text/javascript; charset=utf-8");
  });
  http.Get("/ui/app.css", [](const httplib::Request&, httplib::Response& res) {
    send_static(res, embedded_text(kWebui_app_css), "text/css; charset=utf-8");
  });
}

}  // namespace owl::server
