// Model-card front matter: "key: value", "key: [a, b]" and "key:" followed by "- item" lines, with
// quotes stripped. Anything else in the YAML (nested maps, anchors) is skipped, not misread.
#include "tools/check/model_card.h"

#include <filesystem>
#include <fstream>

namespace owl::check {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return std::string(s);
}

std::vector<std::string> inline_list(std::string_view s) {  // "[a, 'b']" -> {a, b}
  std::vector<std::string> out;
  s = trim(s);
  s = s.substr(1, s.size() - 2);
  while (!s.empty()) {
    const size_t comma = s.find(',');
    const std::string item = unquote(s.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<std::string> read_prefix(const std::filesystem::path& p, size_t limit) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s(limit, '\0');
  in.read(s.data(), static_cast<std::streamsize>(limit));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

}  // namespace

ModelCard parse_model_card(std::string_view md) {
  ModelCard card;
  if (md.substr(0, 3) == "\xEF\xBB\xBF") md.remove_prefix(3);  // UTF-8 byte-order mark
  size_t pos = md.find('\n');
  if (pos == std::string_view::npos || trim(md.substr(0, pos)) != "---") return card;
  pos += 1;
  std::string list_key;  // the key whose "- item" lines follow
  while (pos < md.size()) {
    size_t end = md.find('\n', pos);
    if (end == std::string_view::npos) end = md.size();
    const std::string_view raw = md.substr(pos, end - pos);
    pos = end + 1;
    const std::string_view line = trim(raw);
    if (line == "---") {
      card.has_front_matter = true;
      break;
    }
    if (line.empty() || line.front() == '#') continue;
    if (line.front() == '-' && !list_key.empty()) {
      const std::string item = unquote(line.substr(1));
      if (item.empty()) continue;
      if (list_key == "base_model") card.base_models.push_back(item);
      if (list_key == "datasets") card.datasets.push_back(item);
      if (list_key == "license" && !card.license) card.license = item;
      continue;
    }
    const bool indented = raw.front() == ' ' || raw.front() == '\t';
    if (indented) continue;  // nested maps (e.g. model-index) are not needed
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      list_key.clear();
      continue;
    }
    const std::string key(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    list_key = value.empty() ? key : "";
    if (value.empty()) continue;
    std::vector<std::string> items;
    if (value.front() == '[' && value.back() == ']') {
      items = inline_list(value);
    } else {
      items.push_back(unquote(value));
    }
    if (items.empty()) continue;
    if (key == "license") card.license = items.front();
    if (key == "license_name") card.license_name = items.front();
    if (key == "license_link") card.license_link = items.front();
    if (key == "base_model") card.base_models.insert(card.base_models.end(), items.begin(), items.end());
    if (key == "datasets") card.datasets.insert(card.datasets.end(), items.begin(), items.end());
  }
  if (!card.has_front_matter) return ModelCard{};
  return card;
}

Sidecars read_sidecars(const std::string& model_path) {
  Sidecars s;
  const std::filesystem::path dir = std::filesystem::path(model_path).parent_path();
  const std::filesystem::path folder = dir.empty() ? std::filesystem::path(".") : dir;
  for (const char* name : {"README.md", "readme.md", "README.MD"}) {
    if (auto text = read_prefix(folder / name, 256 * 1024)) {
      ModelCard card = parse_model_card(*text);
      if (card.has_front_matter) {
        s.card = std::move(card);
        s.card_path = (folder / name).string();
      }
      break;
    }
  }
  for (const char* name : {"LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "LICENCE.txt", "license.txt"}) {
    if (auto text = read_prefix(folder / name, 64 * 1024)) {
      s.license_text = std::move(text);
      s.license_path = (folder / name).string();
      break;
    }
  }
  return s;
}

}  // namespace owl::check
