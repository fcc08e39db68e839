// Licenses for `owl check`: the raw strings a model declares (GGUF general.license*, a model card's
// front matter, a LICENSE text) normalised to one record of data/licenses.json, and a verdict for
// the declared use. Mirrors the Hugging Face model-card `license:` vocabulary and SPDX identifiers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace owl {
class ModelFile;

namespace check {

enum class Use { personal, research, commercial };
enum class Verdict { allowed, conditions, not_allowed, unknown };  // ordered from best to worst
std::string_view use_name(Use use);
std::optional<Use> use_from_name(std::string_view name);
std::string_view verdict_name(Verdict verdict);

struct LicenseRecord {
  std::string id;    // "apache-2.0", "llama3.1", "gemma" ...
  std::string name;  // "Apache License 2.0"
  std::string spdx;  // SPDX identifier, empty for model licenses
  std::string kind;  // "spdx" or "model"
  bool osi = false;  // an OSI-approved open-source license
  bool personal = true;
  bool research = true;
  bool commercial = false;
  int64_t user_limit = 0;  // monthly active users above which a separate license is needed; 0: none
  std::string attribution, naming, acceptable_use, redistribution, source;  // empty when none
  struct Restriction {
    std::string text;
    std::vector<Use> uses;  // empty: every use
  };
  std::vector<Restriction> restrictions;
  std::vector<std::string> aliases, links, text_markers, base_models;  // normalised at load
};

class LicenseTable {
 public:
  // data/licenses.json as compiled into the library.
  static const LicenseTable& builtin();
  // Throws owl::Error naming `source` and the record on malformed tables.
  static LicenseTable parse(std::string_view json, std::string_view source);

  const std::vector<LicenseRecord>& records() const { return records_; }
  const LicenseRecord* find_id(std::string_view id) const;
  // Each returns nullptr when nothing in the table matches: an unknown license is never guessed.
  const LicenseRecord* match_name(std::string_view text) const;  // an id, SPDX id, name or alias
  const LicenseRecord* match_link(std::string_view url) const;   // a link to the license
  const LicenseRecord* match_text(std::string_view text) const;  // the text of a LICENSE file
  const LicenseRecord* match_base_model(std::string_view name) const;  // "meta-llama/Llama-2-7b-hf"
  const LicenseRecord* match(std::string_view name_or_link) const;     // link if it looks like one

  // The normal forms used for matching (exposed for tests).
  std::string name_key(std::string_view text) const;
  static std::string link_key(std::string_view url);

 private:
  std::vector<LicenseRecord> records_;
  std::vector<std::string> filler_;
};

struct UseVerdict {
  Verdict verdict = Verdict::unknown;
  std::vector<std::string> conditions;  // what the user must do (allowed with conditions)
  std::vector<std::string> reasons;     // why not allowed / unknown
};

// users: monthly active users of the product or service, when the caller knows them.
UseVerdict verdict_for(const LicenseRecord* record, Use use, std::optional<int64_t> users);

struct DeclaredLicense {
  std::string origin;  // "general.license", "README.md license_name", "LICENSE" ...
  std::string value;   // the raw string (or the first line of a LICENSE text)
  std::string id;      // the record it maps to, "other" for a placeholder, or "unknown"
};

struct BaseModel {
  std::string name;
  std::string repo_url;
  std::string license_hint;  // the license such base models are published under, or "unknown"
};

struct LicenseReport {
  const LicenseRecord* record = nullptr;  // the effective license; nullptr: unknown
  std::vector<DeclaredLicense> declared;
  std::vector<BaseModel> base_models;
  UseVerdict verdict;
  std::vector<std::string> warnings;
  std::string beside;  // the README.md or LICENSE beside the model the license came from; empty: the file says it
  std::string id() const { return record != nullptr ? record->id : "unknown"; }
  // One line for `owl run`: "license: Llama 2 Community License Agreement (llama2): commercial use
  // allowed with conditions (...); terms: <link>".
  std::string summary_line() const;
};

// Reads general.license, general.license.name, general.license.link, general.base_model.*, and a
// README.md / LICENSE beside the file (used when the file itself declares nothing recognisable).
LicenseReport license_report(const ModelFile& file, Use use, std::optional<int64_t> users,
                             const LicenseTable& table = LicenseTable::builtin());

}  // namespace check
}  // namespace owl
