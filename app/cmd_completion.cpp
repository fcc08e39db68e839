// owl completion bash|zsh: a shell completion script made from the command line itself (every
// subcommand and its options), so it never falls behind. Install with
//   owl completion bash > ~/.local/share/bash-completion/completions/owl
// or `source <(owl completion zsh)` in ~/.zshrc.
#include <cstdio>
#include <string>

#include "base/error.h"
#include "commands.h"

namespace owl::app {

namespace {

// "-m --model -p --prompt ..." of one command.
std::string option_words(const CLI::App& cmd) {
  std::string words;
  for (const CLI::Option* o : cmd.get_options()) {
    for (const std::string& s : o->get_snames()) words += " -" + s;
    for (const std::string& l : o->get_lnames()) words += " --" + l;
  }
  return words.empty() ? words : words.substr(1);
}

std::string bash_script(const CLI::App& root) {
  std::string commands, cases;
  for (const CLI::App* sub : root.get_subcommands([](const CLI::App*) { return true; })) {
    commands += (commands.empty() ? "" : " ") + sub->get_name();
    cases += "    " + sub->get_name() + ") opts=\"" + option_words(*sub) + "\" ;;\n";
  }
  return "# bash completion for owl (owl completion bash)\n"
         "_owl() {\n"
         "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" opts=\"\"\n"
         "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
         "    COMPREPLY=($(compgen -W \"" + commands + " --help --version\" -- \"$cur\"))\n"
         "    return\n"
         "  fi\n"
         "  case \"${COMP_WORDS[1]}\" in\n" + cases +
         "  esac\n"
         "  if [[ \"$cur\" == -* ]]; then\n"
         "    COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
         "  else\n"
         "    COMPREPLY=($(compgen -f -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o filenames -F _owl owl\n";
}

}  // namespace

void add_completion(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "Print a shell completion script: owl completion bash|zsh");
  cmd->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->callback([&app, shell] {
    // zsh runs the bash function through its bash-completion emulation.
    const std::string prefix = *shell == "zsh" ? "autoload -U +X bashcompinit && bashcompinit\n" : "";
    std::fputs((prefix + bash_script(app)).c_str(), stdout);
  });
}

}  // namespace owl::app
