// Runs the owl binary of this build with arguments, stdin from /dev/null, and captures its exit
// status, stdout and stderr. OWL_STATE_DIR points into the scratch folder, so the "seen models"
// file of owl run/chat never lands in $HOME.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "test_files.h"

struct OwlResult {
  int status = -1;
  std::string out;
  std::string err;
};

inline OwlResult run_owl(const std::string& args) {
  static int counter = 0;
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  const auto out = scratch_path("owl-" + std::to_string(counter) + ".out");
  const auto err = scratch_path("owl-" + std::to_string(counter++) + ".err");
  const std::string cmd = std::string(OWL_BINARY) + " " + args + " >" + out.string() + " 2>" + err.string() + " </dev/null";
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

// The same with environment assignments in front ("OWL_HOME=/x HF_ENDPOINT=http://..."), a wrapper
// command that runs owl ("unshare -rn", or ""), and stdin from a file; run in the scratch folder (so
// that a model name never meets a file of that name in the working directory).
inline OwlResult run_owl_wrapped(const std::string& env, const std::string& wrapper, const std::string& args,
                                 const std::string& stdin_file = "/dev/null") {
  static int counter = 0;
  ::setenv("OWL_STATE_DIR", scratch_path("state").c_str(), 1);
  const auto out = scratch_path("owl-env-" + std::to_string(counter) + ".out");
  const auto err = scratch_path("owl-env-" + std::to_string(counter++) + ".err");
  const std::string cmd = "cd '" + test_scratch_dir().string() + "' && env " + env + " " + wrapper + " " + std::string(OWL_BINARY) +
                          " " + args + " >" + out.string() + " 2>" + err.string() + " <" + stdin_file;
  const int raw = std::system(cmd.c_str());
  return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(out), read_file(err)};
}

inline OwlResult run_owl_env(const std::string& env, const std::string& args) { return run_owl_wrapped(env, "", args); }
