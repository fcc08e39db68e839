// The building blocks the JSON Schema converter writes: JSON's own rules (values, strings,
// numbers), the string formats, and whole-number ranges as digit patterns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "grammar/json_schema.h"

namespace owl::grammar {

// The body of a JSON string (between the quotes) in a format: date, time, date-time, uuid, email,
// uri. nullopt for a format owl does not know.
std::optional<std::string> format_gbnf(const std::string& format);

// Whole numbers in [lo, hi] (either end open when nullopt) written in JSON, as a GBNF expression.
// Magnitudes are bounded by 16 digits, as the unbounded integer rule is.
std::string integer_range_gbnf(std::optional<int64_t> lo, std::optional<int64_t> hi);

}  // namespace owl::grammar
