// Open weights or open source: what the model file (and its model card) declares beyond the weights.
// Mirrors the Open Source Initiative's Open Source AI Definition 1.0: open source needs the weights
// under OSI-approved terms plus the training data and the training code described or published.
#pragma once

#include <string>
#include <vector>

#include "tools/check/license.h"

namespace owl::check {

struct Openness {
  bool open_source = false;          // false: open-weight
  std::string reason;                // one sentence naming what is present and what is missing
  std::vector<std::string> datasets;  // training data the file or card names
  std::vector<std::string> code;      // training-code repositories it links
  std::string label() const { return open_source ? "open-source" : "open-weight"; }
};

// Reads general.datasets / general.dataset.N.* and general.source.* / general.repo_url links to code
// hosts (or training.tool "owl train": owl's own training code), plus the datasets of a model card
// beside the file.
Openness classify_openness(const ModelFile& file, const LicenseReport& license);

}  // namespace owl::check
