// File digests computed by other programs than the one under test: sha256sum and git hash-object.
#pragma once

#include <cstdio>
#include <string>

inline std::string tool_output(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
    ::pclose(p);
  }
  return out.substr(0, out.find_first_of(" \n"));
}
inline std::string sha256_of(const std::string& path) { return "sha256:" + tool_output("sha256sum '" + path + "'"); }
inline std::string git_sha1_of(const std::string& path) { return tool_output("git hash-object '" + path + "'"); }
