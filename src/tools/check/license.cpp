// License normalisation and verdicts. Names are compared by a key (lower case, words joined, filler
// words such as "license" or "agreement" dropped), links by their longest matching prefix, LICENSE
// texts by the marker that appears first. The table (data/licenses.json) is the only knowledge here.
#include "tools/check/license.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "formats/gguf.h"
#include "tools/check/model_card.h"
#include "tools/check/tables.h"

namespace owl::check {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Lower case, every run of other characters -> one separator; '.' kept between digits ("3.1").
std::string words(std::string_view s, char sep) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool keep_dot = c == '.' && i > 0 && i + 1 < s.size() && digit(s[i - 1]) && digit(s[i + 1]);
    if (alnum(c) || keep_dot) {
      out += lower(c);
    } else if (!out.empty() && out.back() != sep) {
      out += sep;
    }
  }
  while (!out.empty() && out.back() == sep) out.pop_back();
  return out;
}

std::vector<std::string> string_list(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key)) return out;
  for (const auto& v : j.at(key)) out.push_back(v.get<std::string>());
  return out;
}

std::string opt_string(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return {};
  return j.at(key).get<std::string>();
}

bool placeholder(std::string_view id) {  // model-card values that only say "see elsewhere"
  const std::string k = words(id, '-');
  return k.empty() || k == "other" || k == "unknown" || k == "none" || k == "custom" || k == "proprietary" ||
         k == "see-license" || k == "license";
}

bool looks_like_link(std::string_view s) {
  return s.find("://") != std::string_view::npos || s.substr(0, 4) == "www." ||
         (s.find('/') != std::string_view::npos && s.find(' ') == std::string_view::npos &&
          s.find('.') != std::string_view::npos && s.find('.') < s.find('/'));
}

int worse(Verdict a, Verdict b) { return std::max(static_cast<int>(a), static_cast<int>(b)); }

}  // namespace

std::string_view use_name(Use use) {
  switch (use) {
    case Use::personal: return "personal";
    case Use::research: return "research";
    case Use::commercial: return "commercial";
  }
  return "?";
}

std::optional<Use> use_from_name(std::string_view name) {
  for (Use u : {Use::personal, Use::research, Use::commercial}) {
    if (use_name(u) == name) return u;
  }
  return std::nullopt;
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::allowed: return "allowed";
    case Verdict::conditions: return "conditions";
    case Verdict::not_allowed: return "not_allowed";
    case Verdict::unknown: return "unknown";
  }
  return "?";
}

std::string LicenseTable::name_key(std::string_view text) const {
  std::string key;
  const std::string w = words(text, ' ');
  size_t pos = 0;
  while (pos < w.size()) {
    size_t end = w.find(' ', pos);
    if (end == std::string::npos) end = w.size();
    const std::string word = w.substr(pos, end - pos);
    if (std::find(filler_.begin(), filler_.end(), word) == filler_.end()) {
      for (char c : word) {
        if (c != '.') key += c;
      }
    }
    pos = end + 1;
  }
  return key;
}

std::string LicenseTable::link_key(std::string_view url) {
  std::string s;
  for (char c : url) s += lower(c);
  while (!s.empty() && (s.front() == ' ' || s.front() == '<' || s.front() == '(')) s.erase(0, 1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '>' || s.back() == ')' || s.back() == '\r')) s.pop_back();
  for (const char* scheme : {"https://", "http://"}) {
    if (s.starts_with(scheme)) s.erase(0, std::string_view(scheme).size());
  }
  if (s.starts_with("www.")) s.erase(0, 4);
  const size_t cut = s.find_first_of("?#");
  if (cut != std::string::npos) s.resize(cut);
  for (const char* part : {"/raw/", "/resolve/"}) {
    const size_t at = s.find(part);
    if (at != std::string::npos) s.replace(at, std::string_view(part).size(), "/blob/");
  }
  while (!s.empty() && s.back() == '/') s.pop_back();
  for (const char* ext : {".md", ".txt", ".html", ".htm", ".pdf"}) {
    if (s.ends_with(ext)) s.resize(s.size() - std::string_view(ext).size());
  }
  return s;
}

LicenseTable LicenseTable::parse(std::string_view json, std::string_view source) {
  LicenseTable t;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", source, e.what());
  }
  try {
    t.filler_ = string_list(root, "filler_words");
    for (const auto& j : root.at("licenses")) {
      LicenseRecord r;
      r.id = j.at("id").get<std::string>();
      r.name = j.at("name").get<std::string>();
      r.spdx = opt_string(j, "spdx");
      r.kind = j.at("kind").get<std::string>();
      r.osi = j.value("osi", false);
      r.personal = j.at("personal").get<bool>();
      r.research = j.at("research").get<bool>();
      r.commercial = j.at("commercial").get<bool>();
      r.user_limit = j.value("user_limit", int64_t{0});
      r.attribution = opt_string(j, "attribution");
      r.naming = opt_string(j, "naming");
      r.acceptable_use = opt_string(j, "acceptable_use");
      r.redistribution = opt_string(j, "redistribution");
      r.source = j.at("source").get<std::string>();
      if (j.contains("restrictions")) {
        for (const auto& rj : j.at("restrictions")) {
          LicenseRecord::Restriction x{rj.at("text").get<std::string>(), {}};
          for (const std::string& u : string_list(rj, "uses")) {
            const auto use = use_from_name(u);
            if (!use) fail("{}: license '{}': unknown use '{}'", source, r.id, u);
            x.uses.push_back(*use);
          }
          r.restrictions.push_back(std::move(x));
        }
      }
      for (const std::string& a : string_list(j, "aliases")) r.aliases.push_back(t.name_key(a));
      for (const std::string* extra : {&r.id, &r.spdx, &r.name}) {
        if (!extra->empty()) r.aliases.push_back(t.name_key(*extra));
      }
      for (const std::string& l : string_list(j, "links")) r.links.push_back(link_key(l));
      for (const std::string& m : string_list(j, "text_markers")) r.text_markers.push_back(words(m, ' '));
      for (const std::string& b : string_list(j, "base_models")) r.base_models.push_back(words(b, '-') + "-");
      if (t.find_id(r.id) != nullptr) fail("{}: license '{}' appears twice", source, r.id);
      t.records_.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    fail("{}: {}", source, e.what());
  }
  // An alias must name one license only, or matching would depend on the table's order.
  for (size_t i = 0; i < t.records_.size(); ++i) {
    for (const std::string& a : t.records_[i].aliases) {
      for (size_t k = i + 1; k < t.records_.size(); ++k) {
        const auto& other = t.records_[k].aliases;
        if (!a.empty() && std::find(other.begin(), other.end(), a) != other.end()) {
          fail("{}: alias '{}' names both '{}' and '{}'", source, a, t.records_[i].id, t.records_[k].id);
        }
      }
    }
  }
  return t;
}

const LicenseTable& LicenseTable::builtin() {
  static const LicenseTable table = parse(licenses_json(), "data/licenses.json");
  return table;
}

const LicenseRecord* LicenseTable::find_id(std::string_view id) const {
  for (const LicenseRecord& r : records_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

const LicenseRecord* LicenseTable::match_name(std::string_view text) const {
  const std::string key = name_key(text);
  if (key.empty()) return nullptr;
  for (const LicenseRecord& r : records_) {
    if (std::find(r.aliases.begin(), r.aliases.end(), key) != r.aliases.end()) return &r;
  }
  return nullptr;
}

const LicenseRecord* LicenseTable::match_link(std::string_view url) const {
  const std::string key = link_key(url);
  const LicenseRecord* best = nullptr;
  size_t best_len = 0;
  for (const LicenseRecord& r : records_) {
    for (const std::string& l : r.links) {
      if (l.size() <= best_len || !key.starts_with(l)) continue;
      // The prefix must end at a path boundary unless the pattern itself ends with a separator.
      const bool boundary = key.size() == l.size() || l.back() == '-' || l.back() == '/' ||
                            std::string_view("/-._").find(key[l.size()]) != std::string_view::npos;
      if (boundary) {
        best = &r;
        best_len = l.size();
      }
    }
  }
  return best;
}

const LicenseRecord* LicenseTable::match_text(std::string_view text) const {
  const std::string w = words(text.substr(0, 64 * 1024), ' ');
  const LicenseRecord* best = nullptr;
  size_t best_pos = std::string::npos;
  size_t best_len = 0;
  for (const LicenseRecord& r : records_) {
    for (const std::string& m : r.text_markers) {
      const size_t at = w.find(m);
      if (at != std::string::npos && (at < best_pos || (at == best_pos && m.size() > best_len))) {
        best = &r;
        best_pos = at;
        best_len = m.size();
      }
    }
  }
  return best;
}

const LicenseRecord* LicenseTable::match_base_model(std::string_view name) const {
  const std::string key = words(name, '-') + "-";
  for (const LicenseRecord& r : records_) {
    for (const std::string& b : r.base_models) {
      if (key.find(b) != std::string::npos) return &r;
    }
  }
  return nullptr;
}

const LicenseRecord* LicenseTable::match(std::string_view s) const {
  if (looks_like_link(s)) return match_link(s);
  return match_name(s);
}

UseVerdict verdict_for(const LicenseRecord* r, Use use, std::optional<int64_t> users) {
  UseVerdict v;
  if (r == nullptr) {
    v.verdict = Verdict::unknown;
    v.reasons.push_back("the license is not recognised: read its terms before use");
    return v;
  }
  const bool permitted = use == Use::personal ? r->personal : use == Use::research ? r->research : r->commercial;
  if (!permitted) {
    v.verdict = Verdict::not_allowed;
    v.reasons.push_back(fmt::format("{} does not allow {} use", r->name, use_name(use)));
    for (const auto& x : r->restrictions) {
      if (x.uses.empty() || std::find(x.uses.begin(), x.uses.end(), use) != x.uses.end()) v.reasons.push_back(x.text);
    }
    return v;
  }
  const bool commercial = use == Use::commercial;
  if (commercial && r->user_limit > 0 && users && *users > r->user_limit) {
    v.verdict = Verdict::not_allowed;
    v.reasons.push_back(fmt::format("more than {} monthly active users need a separate license from the licensor "
                                    "({} declared)", r->user_limit, *users));
    return v;
  }
  for (const auto& x : r->restrictions) {
    if (x.uses.empty() || std::find(x.uses.begin(), x.uses.end(), use) != x.uses.end()) v.conditions.push_back(x.text);
  }
  if (!r->acceptable_use.empty()) v.conditions.push_back("follow the acceptable-use policy: " + r->acceptable_use);
  if (commercial && r->user_limit > 0) {
    v.conditions.push_back(users ? fmt::format("at most {} monthly active users ({} declared)", r->user_limit, *users)
                                 : fmt::format("fewer than {} monthly active users, or a separate license from the "
                                               "licensor", r->user_limit));
  }
  if (commercial && !r->attribution.empty()) v.conditions.push_back("attribution: " + r->attribution);
  if (commercial && !r->naming.empty()) v.conditions.push_back("naming: " + r->naming);
  // Copyleft and share-alike bind what a product ships: a condition on commercial use.
  const std::string& share = r->redistribution;
  if (commercial && (share.find("copyleft") != std::string::npos || share.find("share-alike") != std::string::npos)) {
    v.conditions.push_back("what you distribute: " + share);
  }
  v.verdict = v.conditions.empty() ? Verdict::allowed : Verdict::conditions;
  return v;
}

std::string LicenseReport::summary_line() const {
  if (record == nullptr) {
    std::string raw;
    for (const auto& d : declared) raw += (raw.empty() ? "" : ", ") + d.value;
    return fmt::format("license: unknown{}: read its terms before use (owl check for details)",
                       raw.empty() ? " (none declared)" : " (" + raw + ")");
  }
  const UseVerdict v = verdict_for(record, Use::commercial, std::nullopt);
  const char* commercial = v.verdict == Verdict::allowed      ? "commercial use allowed"
                           : v.verdict == Verdict::conditions ? "commercial use allowed with conditions"
                                                              : "no commercial use";
  const std::string origin =
      beside.empty() ? "" : fmt::format(" according to {} beside the model, which may not cover it", beside);
  return fmt::format("license: {} ({}){}: {}; terms: {} (owl check for details)", record->name, record->id, origin,
                     commercial, record->source);
}

LicenseReport license_report(const ModelFile& file, Use use, std::optional<int64_t> users, const LicenseTable& table) {
  LicenseReport rep;
  auto add = [&](std::string origin, const std::string& value, const LicenseRecord* r) {
    rep.declared.push_back({std::move(origin), value, r != nullptr ? r->id : placeholder(value) ? "other" : "unknown"});
    return r;
  };
  auto meta = [&](const char* key) -> std::optional<std::string> {
    const gguf::Value* v = file.find(key);
    if (v == nullptr) return std::nullopt;
    if (v->type() == gguf::ValueType::string) return v->to_string(key);
    if (v->type() == gguf::ValueType::array) {  // some converters write license lists
      std::string joined;
      for (const auto& item : v->to_array(key).items) {
        if (item.type() == gguf::ValueType::string) joined += (joined.empty() ? "" : ", ") + item.to_string(key);
      }
      return joined;
    }
    return std::nullopt;
  };
  // The file's own declarations, in order of authority.
  std::vector<const LicenseRecord*> from_file;
  for (const char* key : {"general.license", "general.license.name", "general.license.link"}) {
    if (auto s = meta(key)) from_file.push_back(add(key, *s, table.match(*s)));
  }
  // A model card and LICENSE beside the file.
  const Sidecars side = read_sidecars(file.path());
  std::vector<const LicenseRecord*> from_side;
  if (side.card) {
    const ModelCard& c = *side.card;
    if (c.license) from_side.push_back(add("README.md license", *c.license, table.match(*c.license)));
    if (c.license_name) from_side.push_back(add("README.md license_name", *c.license_name, table.match(*c.license_name)));
    if (c.license_link) from_side.push_back(add("README.md license_link", *c.license_link, table.match_link(*c.license_link)));
  }
  if (side.license_text) {
    const std::string_view text = *side.license_text;
    std::string first_line(words(text.substr(0, std::min<size_t>(text.size(), 200)), ' ').substr(0, 80));
    from_side.push_back(add("LICENSE", first_line, table.match_text(text)));
  }
  auto first_known = [](const std::vector<const LicenseRecord*>& v) -> const LicenseRecord* {
    for (const LicenseRecord* r : v) {
      if (r != nullptr) return r;
    }
    return nullptr;
  };
  rep.record = first_known(from_file);
  if (rep.record == nullptr) {
    rep.record = first_known(from_side);
    if (rep.record != nullptr) {
      rep.beside = side.card_path.empty() ? side.license_path : side.card_path;
      rep.warnings.push_back(fmt::format("the license comes from a file beside the model ({}), not from the model "
                                         "file: make sure it covers these weights",
                                         rep.beside));
    }
  }
  for (const DeclaredLicense& d : rep.declared) {
    if (rep.record != nullptr && d.id != rep.record->id && d.id != "other" && d.id != "unknown") {
      rep.warnings.push_back(fmt::format("{} says '{}' ({}) but the license in effect is {}", d.origin, d.value, d.id,
                                         rep.record->id));
    }
  }
  if (rep.record == nullptr && !rep.declared.empty()) {
    rep.warnings.push_back("the declared license is not in owl's table (data/licenses.json): read its terms");
  }
  rep.verdict = verdict_for(rep.record, use, users);

  // The base-model chain: a derivative usually stays under its base model's terms.
  const uint64_t n_base = file.find_uint("general.base_model.count").value_or(0);
  std::vector<std::string> base_names;
  for (uint64_t i = 0; i < std::min<uint64_t>(n_base, 64); ++i) {
    const std::string p = fmt::format("general.base_model.{}.", i);
    const std::string name = meta((p + "name").c_str()).value_or("");
    const std::string org = meta((p + "organization").c_str()).value_or("");
    const std::string repo = meta((p + "repo_url").c_str()).value_or("");
    base_names.push_back(org.empty() ? name : fmt::format("{}/{}", org, name));
    rep.base_models.push_back({base_names.back(), repo, ""});
  }
  if (side.card) {
    for (const std::string& b : side.card->base_models) rep.base_models.push_back({b, "", ""});
  }
  for (BaseModel& b : rep.base_models) {
    const LicenseRecord* hint = table.match_base_model(b.name + " " + b.repo_url);
    b.license_hint = hint != nullptr ? hint->id : "unknown";
    if (hint == nullptr || rep.record == nullptr || hint->id == rep.record->id) continue;
    rep.warnings.push_back(fmt::format("base model '{}' is published under {}; a derivative usually remains bound "
                                       "by those terms", b.name, hint->id));
    const UseVerdict base = verdict_for(hint, use, users);
    rep.verdict.verdict = static_cast<Verdict>(worse(rep.verdict.verdict, base.verdict));
    for (const std::string& c : base.conditions) rep.verdict.conditions.push_back(hint->id + ": " + c);
    for (const std::string& r : base.reasons) rep.verdict.reasons.push_back(hint->id + ": " + r);
  }
  return rep;
}

}  // namespace owl::check
