// owl template: renders a chat template (a .jinja file, or a model's own / fallback template) for
// a JSON context, the way transformers' apply_chat_template renders it — for debugging templates.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "chat/model_template.h"
#include "chat/template.h"
#include "commands.h"
#include "common.h"
#include "formats/gguf.h"
#include "models/model_source.h"
#include "models/registry.h"

namespace owl::app {

namespace {
struct TemplateArgs {
  ModelArg model;
  std::string file;
  std::string context;
  std::string now;
};
}  // namespace

void add_template(CLI::App& app) {
  auto a = std::make_shared<TemplateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "template", "Render a chat template for a JSON context (messages, tools, add_generation_prompt, tokens, ...)");
  cmd->add_option("--file", a->file, "Template file (.jinja)");
  add_model_option(*cmd, a->model);
  add_single_thread_option(*cmd);
  cmd->add_option("--context", a->context, "JSON object whose keys become template variables ('-' for stdin)")
      ->required();
  cmd->add_option("--now", a->now, "Fix the clock strftime_now() reads, e.g. 2026-01-15T00:00:00");
  cmd->callback([a] {
    const bool has_model = !a->model.flag.empty() || !a->model.positional.empty();
    if (has_model == !a->file.empty()) fail("give exactly one of --file TEMPLATE.jinja and -m MODEL");
    nlohmann::ordered_json context;
    try {
      context = nlohmann::ordered_json::parse(read_text_arg("--context", a->context));
    } catch (const nlohmann::json::exception& e) {
      fail("{}: not valid JSON ({})", a->context, e.what());
    }
    if (!context.is_object()) fail("{}: the context must be a JSON object", a->context);
    chat::RenderOptions options;
    if (!a->now.empty()) options.now = chat::parse_time(a->now);
    std::string source, name;
    if (has_model) {
      name = a->model.path();
      const auto file = open_model_file(name);
      const chat::ModelTemplate mt = chat::model_template(*file, chat_fallback_for(*file));
      source = mt.source;
      name += mt.is_fallback ? " (fallback " + mt.fallback_name + ")" : " (chat template)";
      // Special tokens the context leaves out come from the model, as transformers takes them
      // from the tokenizer.
      if (mt.bos_token && !context.contains("bos_token")) context["bos_token"] = *mt.bos_token;
      if (mt.eos_token && !context.contains("eos_token")) context["eos_token"] = *mt.eos_token;
    } else {
      name = a->file;
      source = read_text_arg("--file", a->file);
    }
    const chat::Template tmpl(source, name);
    const std::string out = tmpl.render(context, options);
    std::fwrite(out.data(), 1, out.size(), stdout);
  });
}

}  // namespace owl::app
