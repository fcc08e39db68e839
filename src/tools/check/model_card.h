// What `owl check` reads beside a model file: a Hugging Face model card (README.md with YAML front
// matter: license, license_name, license_link, base_model, datasets) and a LICENSE text. Mirrors the
// model-card metadata of huggingface_hub (ModelCardData); only the YAML subset model cards use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace owl::check {

struct ModelCard {
  bool has_front_matter = false;
  std::optional<std::string> license;       // license:
  std::optional<std::string> license_name;  // license_name:
  std::optional<std::string> license_link;  // license_link:
  std::vector<std::string> base_models;     // base_model: (a string or a list)
  std::vector<std::string> datasets;        // datasets:
};

// Parses the front matter between a leading "---" line and the next "---" line; a card without
// front matter gives an empty ModelCard. Never throws: model cards are free text.
ModelCard parse_model_card(std::string_view markdown);

struct Sidecars {
  std::optional<ModelCard> card;  // README.md beside the model, when it has front matter
  std::string card_path;
  std::optional<std::string> license_text;  // first 64 KiB of LICENSE / LICENSE.txt / LICENSE.md / LICENCE
  std::string license_path;
};

// Looks in the model file's folder; missing or unreadable files are simply absent.
Sidecars read_sidecars(const std::string& model_path);

}  // namespace owl::check
