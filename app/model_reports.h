// What owl info and owl check say about a model, also shown by owl show.
#pragma once

#include <string>

#include "engine/loaded_model.h"
#include "tools/check/check.h"

namespace owl::app {

// owl info's text: file, architecture, parameters, weight types, context, vocabulary, family details.
std::string model_description(const LoadedModel& m);  // cmd_info.cpp
// owl check's report. Call before the process loads anything else: it measures what loading adds.
check::CheckReport model_check(const std::string& path, const check::CheckOptions& options);  // cmd_check.cpp

}  // namespace owl::app
