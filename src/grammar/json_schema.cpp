// JSON Schema -> GBNF. Each schema becomes a rule named after where it sits ("root-address",
// "def-Node"); $ref targets are converted once, so recursive schemas become recursive rules.
// Listed properties come in the schema's order (optional ones may be left out); properties not
// listed are generated only when additionalProperties allows them (absent: only when the schema
// lists no properties at all). Every output validates; some valid documents cannot be generated
// (a subset), which is what a generator needs.

#include "grammar/json_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "grammar/grammar.h"
#include "grammar/json_grammar_rules.h"

namespace owl::grammar {

namespace {

using json = nlohmann::ordered_json;

const std::set<std::string> kAnnotations = {"title", "description", "default", "examples", "$schema", "$id",
                                            "$comment", "deprecated", "readOnly", "writeOnly", "$defs",
                                            "definitions"};
const std::set<std::string> kKeywords = {
    "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf", "allOf",
    "$ref", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "nullable"};


std::string alternatives(const std::vector<std::string>& alts) {
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

std::string rule_safe(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
  return out.empty() ? "x" : out;
}

class SchemaConverter {
 public:
  SchemaConverter(const json& root, std::string root_rule) : root_(root), root_rule_(std::move(root_rule)) {
    used_names_.insert(root_rule_);
  }

  // The root rule and every rule it needs, without JSON's base rules.
  std::string run() {
    const std::string body = visit(root_, "#", root_rule_);
    std::string out = root_rule_ + " ::= " + body + "\n";
    for (const auto& [name, rule] : rules_) out.append(name).append(" ::= ").append(rule).append("\n");
    return out;
  }

 private:
  [[noreturn]] static void error(const std::string& ptr, const std::string& what) {
    fail("json schema: {} (at {})", what, ptr);
  }

  std::string new_rule_name(const std::string& hint) {
    std::string name = rule_safe(hint);
    for (int i = 2; used_names_.contains(name) || is_base_rule(name); ++i) name = rule_safe(hint) + "-" + std::to_string(i);
    used_names_.insert(name);
    return name;
  }
  static bool is_base_rule(const std::string& n) {
    static const std::set<std::string> base = {"ws", "value", "object", "array", "string", "string-char",
                                               "string-hex-escape", "integer", "number", "boolean", "null"};
    return base.contains(n);
  }
  std::string add_rule(const std::string& hint, const std::string& body) {
    std::string name = new_rule_name(hint);
    rules_[name] = body;
    return name;
  }

  const json& resolve(const std::string& ref, const std::string& ptr) {
    if (ref.empty() || ref[0] != '#') error(ptr, fmt::format("$ref '{}' points outside the schema (not supported)", ref));
    const json* node = &root_;
    size_t pos = 1;
    while (pos < ref.size()) {
      if (ref[pos] != '/') error(ptr, fmt::format("$ref '{}' is not a JSON pointer", ref));
      const size_t next = std::min(ref.find('/', pos + 1), ref.size());
      std::string token = ref.substr(pos + 1, next - pos - 1);
      for (size_t i; (i = token.find("~1")) != std::string::npos;) token.replace(i, 2, "/");
      for (size_t i; (i = token.find("~0")) != std::string::npos;) token.replace(i, 2, "~");
      if (node->is_object() && node->contains(token)) {
        node = &(*node)[token];
      } else if (node->is_array() && !token.empty() && std::all_of(token.begin(), token.end(), ::isdigit) &&
                 std::stoul(token) < node->size()) {
        node = &(*node)[std::stoul(token)];
      } else {
        error(ptr, fmt::format("$ref '{}' points to nothing", ref));
      }
      pos = next;
    }
    return *node;
  }

  // The schema without its annotations and without the listed keywords: what remains to combine.
  static json constraints_except(const json& s, std::initializer_list<const char*> drop) {
    json out = json::object();
    for (auto it = s.begin(); it != s.end(); ++it) {
      const std::string& k = it.key();
      if (kAnnotations.contains(k)) continue;
      if (std::find_if(drop.begin(), drop.end(), [&k](const char* d) { return k == d; }) != drop.end()) continue;
      out[k] = it.value();
    }
    return out;
  }

  // allOf: one schema that asks for everything both ask for.
  json merge(json a, const json& b_in, const std::string& ptr, int depth = 0) {
    if (depth > 32) error(ptr, "allOf nests or refers to itself too deeply");
    json b = b_in;
    if (b.is_boolean()) {
      if (!b.get<bool>()) error(ptr, "allOf contains false: nothing validates");
      return a;
    }
    if (b.contains("$ref")) {
      const json rest = constraints_except(b, {"$ref"});
      b = merge(resolve(b["$ref"].get<std::string>(), ptr), rest, ptr, depth + 1);
    }
    if (b.contains("allOf")) {
      const json parts = b["allOf"];
      b.erase("allOf");
      for (const json& part : parts) b = merge(b, part, ptr, depth + 1);
    }
    for (const auto& [k, v] : b.items()) {
      if (kAnnotations.contains(k)) continue;
      if (!a.contains(k)) {
        a[k] = v;
      } else if (k == "properties") {
        for (const auto& [p, ps] : v.items()) {
          a[k][p] = a[k].contains(p) ? merge(a[k][p], ps, ptr, depth + 1) : ps;
        }
      } else if (k == "required") {
        for (const json& r : v) {
          if (std::find(a[k].begin(), a[k].end(), r) == a[k].end()) a[k].push_back(r);
        }
      } else if (a[k] == v) {
        continue;
      } else if (k == "type") {
        const json ta = a[k].is_array() ? a[k] : json::array({a[k]});
        const json tb = v.is_array() ? v : json::array({v});
        json both = json::array();
        for (const json& t : ta) {
          const bool number_in_integer = t == "number" && std::find(tb.begin(), tb.end(), "integer") != tb.end();
          if (std::find(tb.begin(), tb.end(), t) != tb.end()) both.push_back(t);
          if (number_in_integer) both.push_back("integer");
        }
        if (both.empty()) error(ptr, "allOf asks for types that have nothing in common");
        a[k] = both.size() == 1 ? both[0] : both;
      } else if (k == "minimum" || k == "exclusiveMinimum" || k == "minLength" || k == "minItems") {
        a[k] = std::max(a[k].get<double>(), v.get<double>());
      } else if (k == "maximum" || k == "exclusiveMaximum" || k == "maxLength" || k == "maxItems") {
        a[k] = std::min(a[k].get<double>(), v.get<double>());
      } else if (k == "additionalProperties" && (a[k] == false || v == false)) {
        a[k] = false;
      } else {
        error(ptr, fmt::format("allOf: cannot combine two different '{}'", k));
      }
    }
    return a;
  }

  std::string visit(const json& s, const std::string& ptr, const std::string& name) {
    if (s.is_boolean()) {
      if (!s.get<bool>()) error(ptr, "schema false: nothing validates");
      return "value";
    }
    if (!s.is_object()) error(ptr, "a schema must be an object or a boolean");
    for (const auto& [k, v] : s.items()) {
      if (kAnnotations.contains(k) || kKeywords.contains(k)) continue;
      if (k == "uniqueItems" && v == false) continue;
      error(ptr, fmt::format("'{}' is not supported (owl honours: type, properties, required, additionalProperties, "
                             "enum, const, anyOf, oneOf, allOf, $ref, items, prefixItems, minItems, maxItems, "
                             "minLength, maxLength, pattern, format, minimum, maximum, exclusiveMinimum, "
                             "exclusiveMaximum, nullable)",
                             k));
    }
    if (s.value("nullable", false)) {
      json rest = s;
      rest.erase("nullable");
      return "(" + visit(rest, ptr, name) + " | null)";
    }
    if (s.contains("$ref")) {
      const std::string ref = s["$ref"].get<std::string>();
      const json rest = constraints_except(s, {"$ref"});
      if (!rest.empty()) return visit(merge(resolve(ref, ptr), rest, ptr), ptr, name);
      if (const auto it = refs_.find(ref); it != refs_.end()) return it->second;
      std::string rule = new_rule_name(root_rule_ + "-def-" + ref.substr(ref.rfind('/') + 1));
      refs_[ref] = rule;  // before visiting: a recursive reference finds it
      rules_[rule] = visit(resolve(ref, ptr), ref, rule);
      return rule;
    }
    if (s.contains("allOf")) {
      json merged = constraints_except(s, {"allOf"});
      for (const json& part : s["allOf"]) merged = merge(merged, part, ptr + "/allOf");
      return visit(merged, ptr, name);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key)) continue;
      const json& branches = s[key];
      if (!branches.is_array() || branches.empty()) error(ptr, fmt::format("'{}' must be a non-empty array", key));
      const json rest = constraints_except(s, {key});
      std::vector<std::string> alts;
      for (size_t i = 0; i < branches.size(); ++i) {
        const std::string p = fmt::format("{}/{}/{}", ptr, key, i);
        const json branch = rest.empty() ? branches[i] : merge(rest, branches[i], p);
        alts.push_back(visit(branch, p, fmt::format("{}-{}", name, i)));
      }
      return add_rule(name, alternatives(alts));
    }
    if (s.contains("const")) return gbnf_literal(s["const"].dump());
    if (s.contains("enum")) {
      if (!s["enum"].is_array() || s["enum"].empty()) error(ptr, "'enum' must be a non-empty array");
      std::vector<std::string> alts;
      for (const json& v : s["enum"]) alts.push_back(gbnf_literal(v.dump()));
      return alternatives(alts);
    }
    json types = s.contains("type") ? s["type"] : json(infer_type(s));
    if (types.is_array()) {
      std::vector<std::string> alts;
      for (const json& t : types) {
        json one = s;
        one["type"] = t;
        alts.push_back(visit(one, ptr, name + "-" + t.get<std::string>()));
      }
      return add_rule(name, alternatives(alts));
    }
    if (!types.is_string()) error(ptr, "'type' must be a string or a list of strings");
    const std::string type = types.get<std::string>();
    if (type == "any") return "value";
    if (type == "string") return add_rule(name, string_rule(s, ptr));
    if (type == "integer" || type == "number") return add_rule(name, number_rule(s, ptr, type == "integer"));
    if (type == "boolean") return "boolean";
    if (type == "null") return "null";
    if (type == "object") return object_rule(s, ptr, name);
    if (type == "array") return add_rule(name, array_rule(s, ptr, name));
    error(ptr, fmt::format("unknown type '{}'", type));
  }

  static std::string infer_type(const json& s) {
    for (const char* k : {"properties", "additionalProperties", "required"}) {
      if (s.contains(k)) return "object";
    }
    for (const char* k : {"items", "prefixItems", "minItems", "maxItems"}) {
      if (s.contains(k)) return "array";
    }
    for (const char* k : {"minLength", "maxLength", "pattern", "format"}) {
      if (s.contains(k)) return "string";
    }
    for (const char* k : {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}) {
      if (s.contains(k)) return "number";
    }
    return "any";
  }

  static uint64_t count(const json& s, const char* key, const std::string& ptr) {
    const json& v = s[key];
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() != std::floor(v.get<double>()) || v.get<double>() > 1e5) {
      error(ptr, fmt::format("'{}' must be a whole number from 0 to 100000", key));
    }
    return v.get<uint64_t>();
  }

  static std::string string_rule(const json& s, const std::string& ptr) {
    const bool lengths = s.contains("minLength") || s.contains("maxLength");
    if (s.contains("format")) {
      const std::string format = s["format"].get<std::string>();
      const auto body = format_gbnf(format);
      if (!body) error(ptr, fmt::format("format '{}' is not supported (date, time, date-time, uuid, email, uri are)", format));
      if (lengths || s.contains("pattern")) error(ptr, "'format' together with 'pattern' or lengths is not supported");
      return "\"\\\"\" " + *body + " \"\\\"\"";
    }
    if (s.contains("pattern")) {
      if (lengths) error(ptr, "'pattern' together with 'minLength'/'maxLength' is not supported");
      return "\"\\\"\" " + regex_to_gbnf(s["pattern"].get<std::string>()) + " \"\\\"\"";
    }
    if (!lengths) return "string";
    const uint64_t min = s.contains("minLength") ? count(s, "minLength", ptr) : 0;
    if (!s.contains("maxLength")) return fmt::format("\"\\\"\" string-char{{{},}} \"\\\"\"", min);
    const uint64_t max = count(s, "maxLength", ptr);
    if (max < min) error(ptr, "maxLength is below minLength");
    return fmt::format("\"\\\"\" string-char{{{},{}}} \"\\\"\"", min, max);
  }

  // A bound of a number schema (absent: set is false).
  struct Bound {
    bool set = false;
    int64_t value = 0;
    bool inclusive = true;
  };

  // The lower or upper bound of a number schema, from minimum / exclusiveMinimum (both drafts).
  static Bound bound(const json& s, bool lower, bool integer, const std::string& ptr) {
    const char* inclusive_key = lower ? "minimum" : "maximum";
    const char* exclusive_key = lower ? "exclusiveMinimum" : "exclusiveMaximum";
    bool set = false, inclusive = true;
    double v = 0;
    if (s.contains(inclusive_key)) set = true, v = s[inclusive_key].get<double>();
    if (s.contains(exclusive_key)) {
      const json& e = s[exclusive_key];
      if (e.is_boolean()) {  // draft 4: a flag on minimum / maximum
        inclusive = !e.get<bool>();
      } else {
        const double x = e.get<double>();
        if (!set || (lower ? x >= v : x <= v)) set = true, v = x, inclusive = false;
      }
    }
    if (!set) return {};
    if (std::fabs(v) > 9e15) error(ptr, "number bounds beyond 16 digits are not supported");
    if (v != std::floor(v)) {
      // A whole number bounded by a fraction: the nearest whole bound, inclusive.
      if (!integer) error(ptr, fmt::format("a bound that is not a whole number ({}) is not supported", v));
      return {true, static_cast<int64_t>(lower ? std::ceil(v) : std::floor(v)), true};
    }
    return {true, static_cast<int64_t>(v), inclusive};
  }

  // Non-negative decimals u = I[.F] with lo <= / < u <= / < hi (whole-number bounds).
  static std::vector<std::string> unsigned_decimals(Bound lo, Bound hi) {
    const std::string frac = "( \".\" [0-9]{1,16} )?";
    const std::string nonzero_frac = "\".\" [0-9]{0,15} [1-9]";
    std::vector<std::string> alts;
    // I ranges over whole numbers for which every fraction stays in bounds: up to hi - 1.
    const int64_t any_lo = std::max<int64_t>(lo.set ? (lo.inclusive ? lo.value : lo.value + 1) : 0, 0);
    if (!hi.set || any_lo <= hi.value - 1) {
      const std::string ints = integer_range_gbnf(any_lo, hi.set ? std::optional<int64_t>(hi.value - 1) : std::nullopt);
      if (!ints.empty()) alts.push_back(ints + " " + frac);
    }
    // hi itself (inclusive), with no fraction.
    if (hi.set && hi.inclusive && hi.value >= 0 && (!lo.set || (lo.inclusive ? hi.value >= lo.value : hi.value > lo.value))) {
      alts.push_back(gbnf_literal(std::to_string(hi.value)));
    }
    // lo itself (exclusive) plus a fraction above zero.
    if (lo.set && !lo.inclusive && lo.value >= 0 && (!hi.set || lo.value < hi.value)) {
      alts.push_back(gbnf_literal(std::to_string(lo.value)) + " " + nonzero_frac);
    }
    return alts;
  }

  static std::string number_rule(const json& s, const std::string& ptr, bool integer) {
    const Bound lo = bound(s, true, integer, ptr);
    const Bound hi = bound(s, false, integer, ptr);
    if (!lo.set && !hi.set) return integer ? "integer" : "number";
    if (integer) {
      const int64_t a = lo.inclusive ? lo.value : lo.value + 1;
      const int64_t b = hi.inclusive ? hi.value : hi.value - 1;
      std::string r = lo.set && hi.set && a > b ? std::string()
                                                      : integer_range_gbnf(lo.set ? std::optional<int64_t>(a) : std::nullopt,
                                                                           hi.set ? std::optional<int64_t>(b) : std::nullopt);
      if (r.empty()) error(ptr, "no whole number is within the bounds");
      return r;
    }
    // v >= 0: the bounds as they are; v < 0 as "-" u, with u > 0 and the bounds mirrored.
    std::vector<std::string> alts = unsigned_decimals(lo, hi);
    if (!lo.set || lo.value < 0) {
      Bound ulo = hi.set ? Bound{true, -hi.value, hi.inclusive} : Bound{};
      if (!ulo.set || ulo.value < 0 || (ulo.value == 0 && ulo.inclusive)) ulo = Bound{true, 0, false};  // no "-0"
      const Bound uhi = lo.set ? Bound{true, -lo.value, lo.inclusive} : Bound{};
      for (const std::string& a : unsigned_decimals(ulo, uhi)) alts.push_back("\"-\" " + a);
    }
    if (alts.empty()) error(ptr, "no number is within the bounds");
    return alternatives(alts);
  }

  // A JSON string (with its quotes) whose text is none of names: for keys beyond the listed ones.
  // Such keys use no escapes, so that none can spell a listed name in another way.
  std::string key_not_in(const std::vector<std::string>& names, const std::string& hint, const std::string& ptr) {
    struct Node {
      std::map<char, size_t> next;
      bool terminal = false;
    };
    std::vector<Node> trie(1);
    for (const std::string& n : names) {
      size_t at = 0;
      for (char c : n) {
        if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) {
          error(ptr, fmt::format("additional properties beside a property named {} (characters that need escapes "
                                 "or beyond ASCII) are not supported", json(n).dump()));
        }
        if (!trie[at].next.contains(c)) {
          trie[at].next[c] = trie.size();
          trie.emplace_back();
        }
        at = trie[at].next[c];
      }
      trie[at].terminal = true;
    }
    const std::string free = "[^\"\\\\\\x00-\\x1F]*";
    std::vector<std::string> node_rules(trie.size());
    for (size_t i = 0; i < trie.size(); ++i) node_rules[i] = new_rule_name(hint + "-key");
    for (size_t i = 0; i < trie.size(); ++i) {
      std::vector<std::string> alts;
      std::string others = "[^\"\\\\\\x00-\\x1F";
      for (const auto& [c, child] : trie[i].next) {
        alts.push_back(gbnf_literal(std::string(1, c)) + " " + node_rules[child]);
        others += c == ']' || c == '-' || c == '^' ? std::string("\\") + c : std::string(1, c);
      }
      alts.push_back(others.append("] ").append(free));
      if (!trie[i].terminal) alts.push_back("\"\"");
      rules_[node_rules[i]] = alternatives(alts);
    }
    return "\"\\\"\" " + node_rules[0] + " \"\\\"\"";
  }

  std::string object_rule(const json& s, const std::string& ptr, const std::string& name) {
    const json props = s.value("properties", json::object());
    if (!props.is_object()) error(ptr, "'properties' must be an object");
    std::set<std::string> required;
    for (const json& r : s.value("required", json::array())) required.insert(r.get<std::string>());
    std::vector<std::string> names;
    for (const auto& [k, v] : props.items()) names.push_back(k);
    for (const std::string& r : required) {
      if (!props.contains(r)) error(ptr, fmt::format("required property '{}' has no schema in 'properties'", r));
    }
    // Keys beyond the listed ones: allowed by additionalProperties, or when nothing is listed.
    std::string extra;
    const json additional = s.contains("additionalProperties") ? s["additionalProperties"] : json(names.empty());
    if (!(additional.is_boolean() && !additional.get<bool>())) {
      const std::string v = visit(additional, ptr + "/additionalProperties", name + "-additional");
      extra = key_not_in(names, name, ptr) + " ws \":\" ws " + v;
    }
    std::string object_name = new_rule_name(name);
    // rest-i: the members from the i-th listed property on, after at least one member (commas first);
    // first-i: the same when no member came yet.
    const size_t n = names.size();
    std::vector<std::string> rest(n + 1), first(n + 1);
    for (size_t i = 0; i <= n; ++i) {
      rest[i] = new_rule_name(object_name + "-rest");
      first[i] = new_rule_name(object_name + "-first");
    }
    rules_[rest[n]] = extra.empty() ? "\"\"" : "( \",\" ws " + extra + " ws )*";
    rules_[first[n]] = extra.empty() ? "\"\"" : "( " + extra + " ws ( \",\" ws " + extra + " ws )* )?";
    for (size_t i = n; i-- > 0;) {
      const std::string key = json(names[i]).dump();
      const std::string member =
          gbnf_literal(key) + " ws \":\" ws " + visit(props[names[i]], ptr + "/properties/" + names[i], name + "-" + names[i]);
      if (required.contains(names[i])) {
        rules_[rest[i]] = "\",\" ws " + member + " ws " + rest[i + 1];
        rules_[first[i]] = member + " ws " + rest[i + 1];
      } else {
        rules_[rest[i]] = "( \",\" ws " + member + " ws )? " + rest[i + 1];
        rules_[first[i]] = "( " + member + " ws " + rest[i + 1] + " | " + first[i + 1] + " )";
      }
    }
    rules_[object_name] = "\"{\" ws " + first[0] + " \"}\"";
    return object_name;
  }

  std::string array_rule(const json& s, const std::string& ptr, const std::string& name) {
    std::vector<std::string> prefix;
    if (s.contains("prefixItems")) {
      for (size_t i = 0; i < s["prefixItems"].size(); ++i) {
        prefix.push_back(visit(s["prefixItems"][i], fmt::format("{}/prefixItems/{}", ptr, i), fmt::format("{}-{}", name, i)));
      }
    }
    const uint64_t min = s.contains("minItems") ? count(s, "minItems", ptr) : 0;
    std::optional<uint64_t> max;
    if (s.contains("maxItems")) max = count(s, "maxItems", ptr);
    if (max && *max < min) error(ptr, "maxItems is below minItems");
    std::string item;  // the schema of items after the prefix; empty: none
    if (s.contains("items")) {
      if (!(s["items"].is_boolean() && !s["items"].get<bool>())) item = visit(s["items"], ptr + "/items", name + "-item");
    } else if (prefix.empty() || min > prefix.size()) {
      item = "value";
    }
    const size_t k = prefix.size();
    if (item.empty() && min > k) error(ptr, "minItems asks for more items than the schema allows");
    // After the prefix: between r_min and r_max more items.
    const uint64_t r_min = min > k ? min - k : 0;
    std::optional<uint64_t> r_max;
    if (item.empty()) {
      r_max = 0;
    } else if (max) {
      r_max = *max > k ? *max - k : 0;
    }
    auto repeat = [](const std::string& x, uint64_t lo, std::optional<uint64_t> hi) {
      if (hi && *hi == 0) return std::string("\"\"");
      return hi ? fmt::format("( {} ){{{},{}}}", x, lo, *hi) : fmt::format("( {} ){{{},}}", x, lo);
    };
    std::string tail;  // the items after the prefix
    if (k > 0) {
      tail = repeat("\",\" ws " + item + " ws", r_min, r_max);
    } else if (!r_max || *r_max > 0) {
      const std::string more = repeat("\",\" ws " + item + " ws", r_min > 0 ? r_min - 1 : 0,
                                      r_max ? std::optional<uint64_t>(*r_max - 1) : std::nullopt);
      tail = item + " ws " + more;
      if (r_min == 0) tail = "( " + tail + " )?";
    } else {
      tail = "\"\"";
    }
    // The prefix, nested so that item i can come only after item i - 1; items beyond maxItems never.
    std::string body = tail;
    for (size_t i = k; i-- > 0;) {
      if (max && i >= *max) continue;
      const std::string sep = i == 0 ? "" : "\",\" ws ";
      const std::string one = sep + prefix[i] + " ws " + (max && i + 1 >= *max ? "" : body);
      body = i < min ? one : "( " + one + " )?";
    }
    return "\"[\" ws " + body + " \"]\"";
  }

  const json& root_;
  std::string root_rule_;
  std::map<std::string, std::string> rules_;
  std::set<std::string> used_names_;
  std::map<std::string, std::string> refs_;
};

}  // namespace

std::string json_object_gbnf() { return "root ::= object\n" + json_base_rules(); }

std::string json_schema_to_gbnf(const nlohmann::ordered_json& schema) {
  return json_schema_rules(schema, "root") + json_base_rules();
}

std::string json_schema_rules(const nlohmann::ordered_json& schema, const std::string& root_rule) {
  try {
    return SchemaConverter(schema, root_rule).run();
  } catch (const nlohmann::ordered_json::exception& e) {
    // A keyword holding a value of the wrong kind ("maxLength": "5").
    fail("json schema: a keyword has a value of the wrong type ({})", e.what());
  }
}

}  // namespace owl::grammar
