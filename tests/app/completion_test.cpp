// owl completion bash: the script, loaded into a real bash, completes commands and each command's
// options (from the parser itself, so new options appear without edits); zsh gets the same through
// bashcompinit.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <fstream>
#include <string>

#include "run_owl.h"

namespace {

// The words bash's completion function offers for `line` (the words typed so far, the last one
// being completed).
std::string complete_in_bash(const std::string& script, const std::string& words, int cword) {
  const auto path = scratch_path("owl-completion.bash");
  std::ofstream(path) << script;
  const auto out = scratch_path("owl-completion.out");
  const std::string cmd = "bash --norc -c 'source " + path.string() + "; COMP_WORDS=(" + words + "); COMP_CWORD=" +
                          std::to_string(cword) + "; _owl; echo \"${COMPREPLY[*]}\"' >" + out.string() + " 2>&1";
  const int raw = std::system(cmd.c_str());
  EXPECT_TRUE(WIFEXITED(raw) && WEXITSTATUS(raw) == 0) << read_file(out);
  return read_file(out);
}

TEST(Completion, BashCompletesCommandsAndOptions) {
  const OwlResult r = run_owl("completion bash");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(complete_in_bash(r.out, "owl perp", 1), "perplexity\n");
  EXPECT_EQ(complete_in_bash(r.out, "owl ch", 1), "chat check\n");
  EXPECT_EQ(complete_in_bash(r.out, "owl run --kv", 2), "--kv-type\n");
  EXPECT_EQ(complete_in_bash(r.out, "owl quantize --allow", 2), "--allow-requantize\n");
  const OwlResult z = run_owl("completion zsh");
  ASSERT_EQ(z.status, 0);
  EXPECT_EQ(z.out.rfind("autoload -U +X bashcompinit && bashcompinit\n", 0), 0u);
  EXPECT_NE(z.out.find("complete -o filenames -F _owl owl"), std::string::npos);
  EXPECT_EQ(run_owl("completion fish").status, 1);
}

}  // namespace
