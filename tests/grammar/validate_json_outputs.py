#!/usr/bin/env python3
"""Validate generated JSON outputs against the JSON Schemas they were generated under.

Input (stdin): JSON Lines, one object per line:
    {"id": "...", "schema": <schema object>, "output": "<generated text>"}
Output (stdout): one line per input line:
    {"id": ..., "valid": true|false, "error": "..."}
Exit status: 0 when every output is valid, 1 otherwise.

    python3 tests/grammar/validate_json_outputs.py < outputs.jsonl
    python3 tests/grammar/validate_json_outputs.py --self-test [-v]

Only the Python standard library and the `jsonschema` package are used. The validator is meant
to be independent of the converter under test, and deliberately strict:

* The output must be one JSON text per RFC 8259: no NaN/Infinity, no trailing garbage, and
  (our choice) no duplicate object keys.
* The draft comes from the schema's "$schema" (Draft 2020-12 when absent).
* The OpenAPI keyword `nullable: true` is honoured by rewriting such a subschema S into
  {"anyOf": [S without nullable, {"type": "null"}]} (definitions, $id, $schema and annotations
  stay outside, so "#/$defs/..." references keep resolving).
* `format` is asserted for date, time, date-time, uuid, email and uri, whatever the draft, by
  checkers in this file (see FORMAT_RULES, or run with --formats). jsonschema's own checkers are
  not used for these six: here "uri" is absent without the optional rfc3987 package, "email" only
  looks for an "@", the catch-all FormatChecker() has draft 3's "time" (no offset), Draft 7's has
  no "uuid", "date-time" accepts a trailing newline, and year 0000 (valid RFC 3339) is rejected.
  `--self-test -v` lists where the installed jsonschema disagrees. Other formats use
  jsonschema's Draft 2020-12 checkers.
* `pattern` uses ECMA-262 semantics, as JSON Schema specifies, rather than Python's `re`:
  `\\d` and `\\w` are ASCII-only, `\\s` is ECMA whitespace, `.` does not match line terminators,
  `$` only matches at the very end (Python's `$` also matches before a final "\\n").
"""

import argparse
import json
import os
import re
import sys

try:
    import jsonschema
    from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
    from jsonschema.exceptions import SchemaError, best_match
except ImportError:  # pragma: no cover
    sys.stderr.write("validate_json_outputs.py needs the 'jsonschema' package "
                     "(Debian: python3-jsonschema; pip: jsonschema)\n")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "schemas")

# ---------------------------------------------------------------------------------------------
# Formats
# ---------------------------------------------------------------------------------------------

FORMAT_RULES = """
date       RFC 3339 full-date YYYY-MM-DD; month 01-12; day within the month (Gregorian leap years).
time       RFC 3339 full-time hh:mm:ss[.frac](Z|z|+hh:mm|-hh:mm); hour 00-23, minute 00-59,
           second 00-59 (no leap second 60), offset hour 00-23, offset minute 00-59.
date-time  full-date ("T" or "t") full-time.
uuid       RFC 4122 text form: 8-4-4-4-12 hex digits (either case), nothing else.
email      dot-atom "@" domain: local part = atext runs joined by single dots
           (atext = A-Z a-z 0-9 and !#$%&'*+/=?^_`{|}~-); domain = at least two labels joined by
           dots, each label letters/digits/hyphens, not starting or ending with a hyphen.
           No quoted local parts, no IP-literal domains, no length limits.
uri        RFC 3986 URI: scheme ":" rest; scheme = letter then letters/digits/+/-/.; the rest only
           uses RFC 3986 characters (unreserved, reserved, %HH), has no spaces or controls and
           at most one "#".
""".strip()

_RE_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_RE_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?([Zz]|[+-]([0-9]{2}):([0-9]{2}))")
_RE_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_RE_EMAIL = re.compile(r"%s(?:\.%s)*@%s(?:\.%s)+" % (_ATEXT, _ATEXT, _LABEL, _LABEL))
_RE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def _leap(year):
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year, month):
    if month == 2:
        return 29 if _leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def check_date(s):
    m = _RE_DATE.fullmatch(s)
    if not m:
        return False
    year, month, day = (int(g) for g in m.groups())
    return 1 <= month <= 12 and 1 <= day <= _days_in_month(year, month)


def check_time(s):
    m = _RE_TIME.fullmatch(s)
    if not m:
        return False
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if hour > 23 or minute > 59 or second > 59:
        return False
    if m.group(6) is not None and (int(m.group(6)) > 23 or int(m.group(7)) > 59):
        return False
    return True


def check_date_time(s):
    if len(s) < 11 or s[10] not in "Tt":
        return False
    return check_date(s[:10]) and check_time(s[11:])


def check_uuid(s):
    return _RE_UUID.fullmatch(s) is not None


def check_email(s):
    return _RE_EMAIL.fullmatch(s) is not None


def check_uri(s):
    return _RE_URI.fullmatch(s) is not None and s.count("#") <= 1


OWN_FORMAT_CHECKS = {
    "date": check_date,
    "time": check_time,
    "date-time": check_date_time,
    "uuid": check_uuid,
    "email": check_email,
    "uri": check_uri,
}


def _native_checker():
    """jsonschema's Draft 2020-12 checker (not the catch-all FormatChecker(), whose "time" is draft 3's)."""
    fc = getattr(Draft202012Validator, "FORMAT_CHECKER", None)
    if fc is None:  # jsonschema < 4.5
        fc = jsonschema.draft202012_format_checker
    return fc


def native_format_report():
    """{format: 'enforced' | 'weak' | 'absent'} for the six formats, probed with sample values."""
    fc = _native_checker()
    probes = {
        "date": ("2024-02-29", "2023-02-29"),
        "time": ("10:20:30Z", "25:20:30Z"),
        "date-time": ("2024-01-01T10:20:30Z", "2024-01-01 10:20:30"),
        "uuid": ("123e4567-e89b-12d3-a456-426614174000", "123e4567e89b12d3a456426614174000"),
        "email": ("a@b.co", "a b@c"),
        "uri": ("https://a.b/c", "not a uri"),
    }
    report = {}
    for name, (good, bad) in probes.items():
        if name not in fc.checkers:
            report[name] = "absent"
        elif fc.conforms(good, name) and not fc.conforms(bad, name):
            report[name] = "enforced"
        else:
            report[name] = "weak"
    return report


def build_format_checker():
    native = _native_checker()
    fc = FormatChecker(formats=())
    for name, (func, raises) in native.checkers.items():
        if name not in OWN_FORMAT_CHECKS:
            fc.checkers[name] = (func, raises)

    def make(own):
        def check(instance):
            return own(instance) if isinstance(instance, str) else True
        return check

    for name, own in OWN_FORMAT_CHECKS.items():
        fc.checks(name)(make(own))
    return fc


FORMAT_CHECKER = build_format_checker()

# ---------------------------------------------------------------------------------------------
# ECMA-262 patterns on top of Python's re
# ---------------------------------------------------------------------------------------------

_ECMA_WS = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_OUTSIDE = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]",
            "s": "[" + _ECMA_WS + "]", "S": "[^" + _ECMA_WS + "]"}
_INSIDE = {"d": "0-9", "w": "A-Za-z0-9_", "s": _ECMA_WS}


def ecma_to_python(pattern):
    """Translate an ECMA-262 regex (the subset JSON Schema users write) to Python re syntax."""
    out = []
    i, n = 0, len(pattern)
    in_class = False
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            table = _INSIDE if in_class else _OUTSIDE
            out.append(table.get(e, "\\" + e))
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            if pattern.startswith("[]", i):
                out.append("(?!)")
                i += 2
                continue
            if pattern.startswith("[^]", i):
                out.append("[\\s\\S]")
                i += 3
                continue
            in_class = True
            if pattern.startswith("[^", i):
                out.append("[^")
                i += 2
            else:
                out.append("[")
                i += 1
            if i < n and pattern[i] == "]":  # ']' right after '[' is literal in Python only
                out.append("\\]")
                i += 1
            continue
        if c == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif c == "$":
            out.append("\\Z")
        elif c == "(" and pattern.startswith("(?<", i) and not pattern.startswith(("(?<=", "(?<!"), i):
            out.append("(?P<")
            i += 3
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


_PATTERN_CACHE = {}


def ecma_search(pattern, text):
    rx = _PATTERN_CACHE.get(pattern)
    if rx is None:
        rx = _PATTERN_CACHE[pattern] = re.compile(ecma_to_python(pattern))
    return rx.search(text) is not None


def _pattern_keyword(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not ecma_search(pattern, instance):
        yield ValidationError("%r does not match %r" % (instance, pattern))


_VALIDATOR_CACHE = {}


def validator_class_for(schema):
    base = validators.validator_for(schema, default=Draft202012Validator)
    cls = _VALIDATOR_CACHE.get(base)
    if cls is None:
        cls = _VALIDATOR_CACHE[base] = validators.extend(base, {"pattern": _pattern_keyword})
    return base, cls

# ---------------------------------------------------------------------------------------------
# OpenAPI `nullable`
# ---------------------------------------------------------------------------------------------

_SUB_ONE = ("additionalProperties", "items", "not", "if", "then", "else", "contains", "propertyNames",
            "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema")
_SUB_MAP = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies")
_SUB_LIST = ("allOf", "anyOf", "oneOf", "prefixItems", "items")
# Kept on the wrapper when a nullable schema is wrapped in anyOf: they define things for the
# resource (so references keep resolving) or only annotate.
_KEEP_OUTSIDE = ("$schema", "$id", "$anchor", "$dynamicAnchor", "$vocabulary", "$comment", "$defs",
                 "definitions", "title", "description", "default", "examples", "deprecated",
                 "readOnly", "writeOnly")


def rewrite_nullable(schema):
    """Return a copy of `schema` in which every subschema with `nullable: true` also accepts null."""
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in _SUB_MAP and isinstance(value, dict):
            out[key] = {k: rewrite_nullable(v) for k, v in value.items()}
        elif key in _SUB_LIST and isinstance(value, list):
            out[key] = [rewrite_nullable(v) for v in value]
        elif key in _SUB_ONE:
            out[key] = rewrite_nullable(value)
        else:
            out[key] = value
    nullable = out.pop("nullable", None)
    if nullable is not True:
        return out
    inner = {k: v for k, v in out.items() if k not in _KEEP_OUTSIDE}
    if not inner:
        return out  # already accepts anything, null included
    outer = {k: v for k, v in out.items() if k in _KEEP_OUTSIDE}
    outer["anyOf"] = [inner, {"type": "null"}]
    return outer

# ---------------------------------------------------------------------------------------------
# Validation of one output
# ---------------------------------------------------------------------------------------------


def _reject_constant(name):
    raise ValueError("%s is not valid JSON" % name)


def _no_duplicates(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError("duplicate object key %r" % key)
        obj[key] = value
    return obj


def parse_output(text):
    """json.loads, minus Python's extensions (NaN, Infinity) and with duplicate keys rejected."""
    return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)


def _short(text, limit=400):
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _describe(error):
    path = "".join("[%s]" % json.dumps(p) for p in error.absolute_path) or "(root)"
    return _short("%s: %s" % (path, error.message))


def validate_output(schema, output):
    """Returns (valid, error message or "")."""
    if not isinstance(output, str):
        return False, "output is not a string"
    if not isinstance(schema, (dict, bool)):
        return False, "schema is not an object or boolean"
    try:
        instance = parse_output(output)
    except (ValueError, RecursionError) as e:
        return False, _short("output is not JSON: %s" % e)
    schema = rewrite_nullable(schema)
    base, cls = validator_class_for(schema)
    try:
        base.check_schema(schema)
    except SchemaError as e:
        return False, _short("invalid schema: %s" % e.message)
    validator = cls(schema, format_checker=FORMAT_CHECKER)
    try:
        error = best_match(validator.iter_errors(instance))
    except Exception as e:  # unresolvable $ref and the like
        return False, _short("validation failed: %s: %s" % (type(e).__name__, e))
    if error is not None:
        return False, _describe(error)
    return True, ""


def process_lines(lines, out):
    """Validates JSON Lines from `lines` (str or UTF-8 bytes), writes result lines to `out`;
    returns True if all are valid."""
    all_valid = True
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            if isinstance(line, bytes):
                line = line.decode("utf-8")
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except ValueError as e:
            result = {"id": None, "valid": False, "error": _short("bad input line %d: %s" % (lineno, e))}
        else:
            if "schema" not in record or "output" not in record:
                valid, err = False, "input line %d lacks 'schema' or 'output'" % lineno
            else:
                valid, err = validate_output(record["schema"], record["output"])
            result = {"id": record.get("id"), "valid": valid, "error": err}
        all_valid = all_valid and result["valid"]
        out.write(json.dumps(result) + "\n")
    out.flush()
    return all_valid

# ---------------------------------------------------------------------------------------------
# Self-test data: one valid instance per schema file in tests/grammar/schemas
# ---------------------------------------------------------------------------------------------

EXAMPLES = json.loads(r'''
{
  "01_person.json": {"first_name": "Ada", "last_name": "Lovelace", "age": 36, "email": "ada@example.org"},
  "02_github_issue.json": {"number": 1347, "title": "Crash on empty prompt", "state": "open", "labels": ["bug", "p1"], "assignee": null, "created_at": "2024-03-05T14:22:10Z"},
  "03_order.json": {"order_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "customer_id": 42, "items": [{"sku": "KBD-0042", "quantity": 2, "unit_price": 49.99}], "currency": "EUR", "status": "paid"},
  "04_invoice.json": {"invoice_number": "INV-2024-00017", "issue_date": "2024-02-01", "due_date": "2024-02-29", "seller": {"name": "Acme GmbH", "tax_id": "DE123456789"}, "buyer": {"name": "Bob", "tax_id": null}, "total": {"amount": 1190.5, "currency": "EUR"}},
  "05_product_catalog_entry.json": {"sku": "X7K2P9Q1", "name": "Desk lamp", "price": 24.5, "in_stock": true, "tags": ["led"], "dimensions": {"width_cm": 12, "height_cm": 40.5, "depth_cm": 12}, "category": "electronics"},
  "06_weather_report.json": {"location": {"city": "Oslo", "country_code": "NO"}, "observed_at": "2024-01-15T07:00:00+01:00", "temperature_c": -12.5, "humidity_pct": 80, "conditions": "snow", "wind": {"speed_kmh": 14, "direction": "NW"}},
  "07_calendar_event.json": {"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "Standup", "start": "2024-06-03T09:00:00Z", "end": "2024-06-03T09:15:00Z", "attendees": ["a@team.io", "b.c@team.io"], "recurrence": {"freq": "daily", "interval": 1}, "location": null},
  "08_log_record.json": {"timestamp": "2024-04-01T12:00:00.123Z", "level": "WARN", "logger": "owl.server.http", "message": "slow request", "context": {"path": "/v1/chat", "ms": 812, "cached": false}},
  "09_postal_address.json": {"street": "1600 Amphitheatre Pkwy", "city": "Mountain View", "region": null, "postal_code": "94043", "country": "US"},
  "10_bank_transfer.json": {"transfer_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "from_iban": "DE89370400440532013000", "to_iban": "FR1420041010050500013M02606", "amount": 250, "currency": "EUR", "reference": "Rent March", "execution_date": "2024-03-01", "urgent": false},
  "11_movie_review.json": {"movie_title": "Metropolis", "year": 1927, "stars": 5, "reviewer": {"name": "fritz_fan"}, "summary": "Still stunning.", "spoilers": false, "sentiment": "positive"},
  "12_recipe.json": {"name": "Pancakes", "servings": 4, "prep_minutes": 20, "ingredients": [{"name": "flour", "quantity": 200, "unit": "g"}, {"name": "egg", "quantity": 2, "unit": "piece"}], "steps": ["Mix", "Fry both sides"], "vegetarian": true},
  "13_package_manifest.json": {"name": "@owl/client", "version": "1.4.0", "license": "MIT", "dependencies": {"undici": "~6.2.1", "zod": "3.22.4"}},
  "14_geojson_point_feature.json": {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.75, 59.91]}, "properties": {"name": "Oslo", "elevation_m": null}},
  "15_jsonrpc_request.json": {"jsonrpc": "2.0", "method": "model.load", "params": {"path": "tiny.gguf", "gpu": true}, "id": 7},
  "16_sensor_reading.json": {"sensor_id": "sn-00c0ffee", "timestamp": "2024-07-01T00:00:05Z", "temperature_c": 21.4, "humidity_pct": 43, "battery_v": 3.7, "position": [52.52, 13.405], "status": "ok"},
  "17_feature_flags.json": {"environment": "staging", "updated_at": "2024-05-20T08:30:00Z", "flags": {"new_sampler": {"enabled": true, "rollout_pct": 25}, "dark_mode": {"enabled": false}}},
  "18_chat_message.json": {"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "role": "assistant", "content": null, "tool_calls": [{"id": "call_Ab12Cd34", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]},
  "19_tool_get_weather.json": {"location": "Paris", "unit": "celsius", "days": 3},
  "20_tool_search_web.json": {"query": "owl llm runtime", "num_results": 3, "site": "github.com", "recency": null},
  "21_tool_send_email.json": {"to": ["bob@example.com"], "subject": "Lunch?", "body": "Noon at the usual place", "send_at": null},
  "22_classification_label.json": {"label": "phishing", "confidence": 0.93, "secondary_labels": ["spam"], "model": "clf-v2"},
  "23_sentiment_result.json": {"text_id": "doc_118", "sentiment": "negative", "score": -0.6, "aspects": [{"aspect": "battery", "polarity": "negative"}]},
  "24_named_entities.json": {"language": "en-GB", "entities": [{"text": "Ada Lovelace", "label": "PERSON", "start": 0, "end": 12}, {"text": "London", "label": "LOC", "start": 22, "end": 28}]},
  "25_sql_query_plan.json": {"query_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "planning_ms": 0.42, "plan": {"operator": "HashJoin", "estimated_rows": 120, "cost": 88.5, "children": [{"operator": "SeqScan", "relation": "orders", "estimated_rows": 1000}, {"operator": "IndexScan", "relation": "users", "estimated_rows": 1}]}},
  "26_comment_thread.json": {"id": 1, "author": "alice", "body": "First!", "replies": [{"id": 2, "author": "bob", "body": "Welcome", "replies": []}]},
  "27_file_tree.json": {"type": "directory", "name": "src", "children": [{"type": "file", "name": "main.cc", "size_bytes": 2048}, {"type": "directory", "name": "util"}]},
  "28_category_taxonomy.json": {"taxonomy_version": 3, "root": {"slug": "home", "label": "Home", "subcategories": [{"slug": "kitchen", "label": "Kitchen", "subcategories": [{"slug": "knives", "label": "Knives"}]}]}},
  "29_linked_playlist.json": {"track": "Intro", "duration_s": 95, "next": {"track": "Theme", "duration_s": 240, "next": null}},
  "30_user_profile.json": {"user_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "username": "night_owl", "display_name": null, "avatar_url": "https://cdn.example.com/a/1.png", "social_links": {"mastodon": "https://fosstodon.org/@owl"}, "preferences": {"theme": "dark", "language": "en", "notifications": false}, "created_at": "2023-11-11T11:11:11Z"},
  "31_api_problem_details.json": {"type": "https://example.com/probs/out-of-credit", "title": "Out of credit", "status": 403, "instance": "urn:req:7f3a", "errors": [{"field": "balance", "message": "must be >= 30"}]},
  "32_paginated_users.json": {"data": [{"id": 1, "name": "ann"}, {"id": 2, "name": "ben"}], "page": 1, "per_page": 25, "total": 2, "next_cursor": null},
  "33_payment_method.json": {"type": "card", "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2027},
  "34_shape.json": {"kind": "polygon", "points": [[0, 0], [4, 0], [2, 3.5]]},
  "35_notification_target.json": {"target": {"channel": "sms", "phone": "+4915112345678"}, "message": "Your code is 1234"},
  "36_http_access_log.json": {"method": "POST", "path": "/v1/completions", "status": 200, "duration_ms": 153.2, "client_ip": "10.0.0.7", "timestamp": "2024-02-29T23:59:59.999-05:00"},
  "37_color_palette.json": {"name": "Dusk", "colors": [[40, 44, 52], [97, 175, 239]], "accent_hex": "#E06C75"},
  "38_time_series.json": {"series": "cpu_temp", "unit": "celsius", "points": [["2024-01-01T00:00:00Z", 41.5], ["2024-01-01T00:01:00Z", 43]]},
  "39_k8s_pod_subset.json": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "owl-server", "labels": {"app": "owl"}}, "spec": {"containers": [{"name": "owl", "image": "owl:0.9", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}},
  "40_address_book_entry.json": {"full_name": "Grace Hopper", "email": "grace@navy.mil", "phone": "+12025550123"},
  "41_employee_record.json": {"name": "Linus", "birth_date": "1969-12-28", "employee_no": "E00042", "department": "eng", "active": true},
  "42_audit_event.json": {"event_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "occurred_at": "2024-08-08T08:08:08Z", "actor": {"id": 9, "type": "service"}, "action": "delete", "resource": "models/17"},
  "43_server_config.json": {"host": "0.0.0.0", "port": 8080, "tls": {"enabled": false, "cert_path": null}, "log_level": "info", "timeouts": {"connect_ms": 500}, "metadata": {"owner": "infra", "rack": 7}},
  "44_webhook_event.json": {"id": "evt_1A2b3C4d5E", "created": 1717171717, "livemode": false, "event": {"type": "charge.refunded", "amount_refunded": 500}},
  "45_library_book.json": {"isbn": "9780262033848", "title": "Intro to Algorithms", "authors": ["Cormen", "Leiserson"], "published": "2009-07-31", "genres": ["science"], "available_copies": 2, "rating": 4.5},
  "46_flight_booking.json": {"booking_ref": "Q7XK2M", "passengers": [{"first_name": "Mae", "last_name": "Jemison", "seat": "12C"}], "segments": [{"flight_no": "LH400", "from": "FRA", "to": "JFK", "departure": "2024-09-01T10:35:00+02:00"}], "cabin": "economy"},
  "47_support_ticket.json": {"ticket_id": 5512, "priority": "P2", "status": "open", "contact": "+441632960961", "subject": "Login loop", "sla_due": "2024-10-10T18:00:00Z", "satisfaction": null},
  "48_survey_response.json": {"respondent": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "submitted": "2024-03-14T15:09:26Z", "answers": [{"question": 1, "kind": "rating", "value": 4}, {"question": 2, "kind": "text", "value": "More docs"}]},
  "49_map_bbox.json": {"crs": "EPSG:4326", "bbox": [5.9, 45.8, 10.5, 47.8], "zoom": 8},
  "50_stock_quote.json": {"symbol": "OWL", "exchange": "NASDAQ", "price": 12.34, "change_pct": -1.5, "volume": 120000, "as_of": "2024-06-28T20:00:00Z", "currency": "USD"},
  "51_health_check.json": {"status": "warn", "version": "2.1.0", "uptime_s": 86400, "checks": {"db": {"status": "pass", "latency_ms": 3.2, "observed_at": "12:00:01Z"}, "cache": {"status": "warn", "observed_at": "12:00:01.250+02:00"}}},
  "52_store_opening_hours.json": {"store_id": "ST0042", "timezone": "Europe/Berlin", "hours": [{"day": "mon", "open": "09:00:00+01:00", "close": "18:30:00+01:00"}], "closed_on": ["2024-12-25"]},
  "53_meeting_poll.json": {"title": "Q3 planning", "options": [{"date": "2024-07-01", "start": "10:00:00Z"}, {"date": "2024-07-02", "start": "14:30:00Z"}], "deadline": "2024-06-28T17:00:00Z", "anonymous": false},
  "54_vehicle_telemetry.json": {"vin": "1HGCM82633A004352", "speed_kmh": 87.5, "fuel_level": 0.61, "position": [48.137, 11.575], "engine_on": true, "dtc_codes": ["P0301"]},
  "55_ml_training_config.json": {"model": "small", "learning_rate": 0.0003, "batch_size": 32, "epochs": 3, "optimizer": {"name": "adam", "beta1": 0.9, "beta2": 0.999}, "seed": null, "dropout": 0.1},
  "56_contact_form_draft07.json": {"name": "Sam", "email": "sam@example.net", "phone": null, "topic": "support", "message": "Hello", "consent": true},
  "57_inventory_adjustment_draft07.json": {"warehouse": "WH-DE1", "sku": "ABC-0001", "delta": -3, "reason": "damaged", "recorded_at": "2024-01-31T23:00:00Z"},
  "58_setting_update.json": {"key": "display.brightness", "value": 70, "mode": 0, "apply_at": "now"},
  "59_batch_tool_calls.json": [{"name": "get_weather", "arguments": {"location": "Lima", "unit": "celsius"}}, {"name": "search_web", "arguments": {"query": "Lima events"}}],
  "60_translation_request.json": {"source_lang": "en", "target_lang": "de", "text": "Good morning", "formality": "formal", "glossary": {"owl": "Eule"}},
  "61_dns_record.json": {"type": "MX", "name": "example.com", "priority": 10, "value": "mail.example.com", "ttl": 3600},
  "62_yes_no_answer.json": "unsure",
  "63_due_date.json": "2025-01-31",
  "64_probability.json": 0.25,
  "65_rss_feed_item.json": {"guid": "tag:example.com,2024:post-17", "title": "Release 0.9", "link": "https://example.com/posts/17", "published": "2024-05-01T06:00:00Z", "author": null, "categories": ["release"]},
  "66_oauth_token_response.json": {"access_token": "eyJhbGciOiJIUzI1NiJ9xx", "token_type": "Bearer", "expires_in": 3600, "refresh_token": null, "scope": "read write:models"},
  "67_game_state_tuple.json": {"player": "white", "move_no": 1, "from": [6, 4], "to": [4, 4], "promotion": null, "clock_ms": [300000, 300000]}
}
''')

# (schema file, output text, why it must be rejected, a fragment the error message must contain or None)
INVALID = [
    ("01_person.json", '{"first_name": "Ada", "last_name": "L"}',
     "required 'age' missing", "'age' is a required property"),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 36, "nick": "x"}',
     "additionalProperties false", "'nick' was unexpected"),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 151}', "maximum", '["age"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 36.5}', "integer", '["age"]'),
    ("01_person.json", '{"first_name": "", "last_name": "L", "age": 3}', "minLength", '["first_name"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3, "email": "ada at example.org"}',
     "email", '["email"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3, "email": "a b@example.org"}',
     "email space", '["email"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3, "email": "ada@localhost"}',
     "email one label", '["email"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3, "email": "ada..x@ex.org"}',
     "email dots", '["email"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3, "email": "ada@-ex.org"}',
     "email label", '["email"]'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "Lovelace-Byron-King-Noel-X", "age": 36}',
     "maxLength 24", '["last_name"]'),
    ("01_person.json", '{"first_name": "Ada", "first_name": "Bo", "last_name": "L", "age": 3}',
     "duplicate key", 'duplicate object key'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": NaN}', "NaN is not JSON", 'not valid JSON'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3', "truncated", 'not JSON'),
    ("01_person.json", '{"first_name": "Ada", "last_name": "L", "age": 3} x', "trailing garbage", 'Extra data'),
    ("01_person.json", '', "empty output", 'not JSON'),
    ("02_github_issue.json", '{"number": 1, "title": "A\\u2028B", "state": "open", "created_at": "2024-03-05T14:22:10Z"}',
     "ECMA '.' does not match U+2028", '["title"]'),
    ("02_github_issue.json", '{"number": 1, "title": "Bug", "state": "reopened", "created_at": "2024-03-05T14:22:10Z"}',
     "enum", '["state"]'),
    ("03_order.json", '{"order_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "customer_id": 1, "items": [], '
     '"currency": "EUR", "status": "paid"}', "minItems 1", None),
    ("03_order.json", '{"order_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "customer_id": 1, "items": [{"sku": "AB-1234", '
     '"quantity": 1, "unit_price": 1}], "currency": "EUR", "status": "paid"}', "pattern", '["sku"]'),
    ("03_order.json", '{"order_id": "3f2b8c1e-9a4d-4e2f-8b6a-1c2d3e4f5a6b", "customer_id": 1, "items": [{"sku": "ABC-1234", '
     '"quantity": 1, "unit_price": 0}], "currency": "EUR", "status": "paid"}', "exclusiveMinimum", '["unit_price"]'),
    ("03_order.json", '{"order_id": "3f2b8c1e9a4d4e2f8b6a1c2d3e4f5a6b", "customer_id": 1, "items": [{"sku": "ABC-1234", '
     '"quantity": 1, "unit_price": 2}], "currency": "EUR", "status": "paid"}', "uuid without dashes", '["order_id"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-02-30T09:00:00Z", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "no 30 February", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03 09:00:00Z", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "space instead of T", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03T09:00:00", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "date-time without offset", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03T09:00:60Z", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "second 60", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03T09:00:00Z\\n", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "trailing newline", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03T09:00:00+24:00", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": null}', "offset hour 24", '["start"]'),
    ("07_calendar_event.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "title": "x", "start": "2024-06-03T09:00:00Z", '
     '"end": "2024-06-03T09:15:00Z", "recurrence": {"freq": "hourly", "interval": 1}}',
     "oneOf: neither branch", '["recurrence"]'),
    ("08_log_record.json", '{"timestamp": "2024-04-01T12:00:00Z", "level": "INFO", "logger": "a", "message": "m", '
     '"context": {"k": "seventeen chars!!"}}', "additionalProperties schema maxLength", '["context"]["k"]'),
    ("08_log_record.json", '{"timestamp": "2024-04-01T12:00:00Z", "level": "INFO", "logger": "a", "message": "m", '
     '"context": {"k": [1]}}', "additionalProperties schema type", '["context"]["k"]'),
    ("09_postal_address.json", '{"street": null, "city": "c", "postal_code": "12345", "country": "US"}',
     "street is not nullable", '["street"]'),
    ("11_movie_review.json", '{"movie_title": "M", "year": 1999, "stars": 3, "sentiment": "mixed", "reviewer": {"name": "a b"}}',
     "[^\\\\s@] excludes spaces", '["reviewer"]["name"]'),
    ("13_package_manifest.json", '{"name": "owl\\n", "version": "1.0.0"}',
     "$ matches only at the very end", '["name"]'),
    ("14_geojson_point_feature.json", '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.75]}, '
     '"properties": {"name": "x"}}', "prefixItems with minItems 2", '["coordinates"]'),
    ("14_geojson_point_feature.json", '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [200, 0]}, '
     '"properties": {"name": "x"}}', "longitude bound", '["coordinates"][0]'),
    ("14_geojson_point_feature.json", '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2, 3]}, '
     '"properties": {"name": "x"}}', "maxItems 2", '["coordinates"]'),
    ("14_geojson_point_feature.json", '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, '
     '"properties": {"name": null}}', "name is not nullable", '["properties"]["name"]'),
    ("18_chat_message.json", '{"id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "role": "user", "content": "hi", "name": "h\\u00e9llo"}',
     "ECMA \\\\w is ASCII", '["name"]'),
    ("19_tool_get_weather.json", '{"location": "Paris", "unit": "celsius", "days": true}',
     "boolean is not an integer", '["days"]'),
    ("23_sentiment_result.json", '{"text_id": "doc_\\u0661\\u0662", "sentiment": "neutral", "score": 0}',
     "ECMA \\\\d is ASCII", '["text_id"]'),
    ("26_comment_thread.json", '{"id": 1, "author": "a", "body": "b", "replies": [{"id": 2, "author": "c", "body": "d", '
     '"replies": [{"id": 3, "body": "e"}]}]}',
     "recursive: author missing two levels down", '["replies"][0]["replies"][0]'),
    ("27_file_tree.json", '{"type": "file", "name": "a.txt", "children": []}',
     "draft-07 oneOf: file has no children", None),
    ("29_linked_playlist.json", '{"track": "a", "duration_s": 1, "next": {"track": "b", "duration_s": 0, "next": null}}',
     "recursive: minimum in the second node", '["next"]["duration_s"]'),
    ("30_user_profile.json", '{"user_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "username": "owl", "display_name": null, '
     '"created_at": "2023-11-11T11:11:11Z", "avatar_url": "not a uri"}', "uri without scheme", '["avatar_url"]'),
    ("30_user_profile.json", '{"user_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "username": "owl", "display_name": null, '
     '"created_at": "2023-11-11T11:11:11Z", "avatar_url": "https://ex ample.com/"}',
     "uri with a space", '["avatar_url"]'),
    ("30_user_profile.json", '{"user_id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "username": "owl", "display_name": null, '
     '"created_at": "2023-11-11T11:11:11Z", "avatar_url": "//cdn.example.com/a.png"}',
     "relative reference", '["avatar_url"]'),
    ("33_payment_method.json", '{"type": "card", "brand": "visa", "exp_month": 1, "exp_year": 2030}',
     "oneOf: card lacks last4", None),
    ("40_address_book_entry.json", '{"full_name": "Grace"}',
     "allOf: phone required by the second branch", "'phone' is a required property"),
    ("47_support_ticket.json", '{"ticket_id": 1, "priority": "P1", "status": "new", "contact": "x", "subject": "s"}',
     "anyOf: contact is neither email nor phone", '["contact"]'),
    ("51_health_check.json", '{"status": "pass", "version": "1.0.0", "checks": {"db": {"status": "pass", '
     '"observed_at": "12:00:01"}}}', "time without offset", '["observed_at"]'),
    ("55_ml_training_config.json", '{"model": "tiny", "learning_rate": 0.1, "batch_size": 8, "epochs": 1, '
     '"optimizer": {"name": "sgd", "momentum": 0.9}, "dropout": 1}', "exclusiveMaximum", '["dropout"]'),
    ("56_contact_form_draft07.json", '{"name": "S", "email": "s@e.net", "topic": "other", "message": "m", "consent": false}',
     "const true", '["consent"]'),
    ("59_batch_tool_calls.json", '[]', "root array minItems 1", '(root)'),
    ("62_yes_no_answer.json", '"maybe"', "root enum", '(root)'),
    ("63_due_date.json", '"2023-02-29"', "2023 is not a leap year", '(root)'),
    ("63_due_date.json", '"2024-2-01"', "one-digit month", '(root)'),
    ("64_probability.json", '1.5', "root maximum", '(root)'),
    ("67_game_state_tuple.json", '{"player": "white", "move_no": 1, "from": [6, 4], "to": [4, 8]}',
     "prefixItems bound", '["to"][1]'),
    ("67_game_state_tuple.json", '{"player": "white", "move_no": 1, "from": [6, 4], "to": [4, 4], "clock_ms": []}',
     "minItems 1", None),
]

# Outputs that must be accepted beyond EXAMPLES (edge cases of the rules above).
VALID = [
    ("09_postal_address.json", '{"street": "s", "city": "c", "region": null, "postal_code": "12345-6789", "country": "DE"}'),
    ("43_server_config.json", '{"host": "h", "port": 1, "tls": {"enabled": true}, "metadata": {"x": {"y": [1, null]}}}'),
    ("47_support_ticket.json", '{"ticket_id": 1, "priority": "P1", "status": "new", "contact": "a.b+c@mail.example.com", '
     '"subject": "s", "sla_due": null, "satisfaction": null}'),
    ("07_calendar_event.json", '  {"id": "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D", "title": "x", "start": "2024-02-29t23:59:59.5z", '
     '"end": "2024-06-03T09:15:00-00:00", "recurrence": null}\n'),
    ("51_health_check.json", '{"status": "pass", "version": "1.0.0", "checks": {}}'),
    ("58_setting_update.json", '{"key": "a.b", "value": null, "mode": true, "apply_at": "2024-01-01T00:00:00Z"}'),
    ("58_setting_update.json", '{"key": "a", "value": "\\u00e9t\\u00e9", "mode": null}'),
    ("62_yes_no_answer.json", '"yes"'),
    ("64_probability.json", '1'),
    ("23_sentiment_result.json", '{"text_id": "doc_123456", "sentiment": "neutral", "score": -1}'),
    ("66_oauth_token_response.json", '{"access_token": "abc_DEF-123_456789", "token_type": "Bearer", "expires_in": 1, '
     '"scope": "read\\twrite"}'),
]

# ---------------------------------------------------------------------------------------------
# Schema lint: the rules the schema collection follows (see the task that produced it)
# ---------------------------------------------------------------------------------------------

ALLOWED_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf", "allOf",
    "$ref", "$defs", "definitions", "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength",
    "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "nullable",
    "title", "description", "default", "examples", "$schema", "$id",
}
ALLOWED_FORMATS = set(OWN_FORMAT_CHECKS)
ALLOWED_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}
MAX_FREE_STRING = 24
MAX_ITEMS = 4
MAX_TOP_PROPERTIES = 8


def _subschemas(schema, path):
    """Yields (path, subschema) for `schema` and everything below it."""
    yield path, schema
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        if key in _SUB_MAP and isinstance(value, dict):
            for k, v in value.items():
                yield from _subschemas(v, path + "/" + key + "/" + k)
        elif key in _SUB_LIST and isinstance(value, list):
            for i, v in enumerate(value):
                yield from _subschemas(v, "%s/%s/%d" % (path, key, i))
        elif key in _SUB_ONE and isinstance(value, (dict, bool)):
            yield from _subschemas(value, path + "/" + key)


def _pattern_unbounded(pattern):
    """True if the pattern has * or + or {m,} outside a character class."""
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern.startswith("[^]", i) or pattern.startswith("[]", i):
                i += 1
        elif c in "*+":
            return True
        elif c == "{" and re.match(r"\{[0-9]+,\}", pattern[i:]):
            return True
        i += 1
    return False


def _types(schema):
    t = schema.get("type")
    return set(t) if isinstance(t, list) else ({t} if isinstance(t, str) else set())


def lint_schema(name, schema):
    """Returns a list of problems (empty when the schema follows the collection's rules)."""
    problems = []
    if not isinstance(schema, dict):
        return ["%s: root is not an object" % name]
    root_props = schema.get("properties", {})
    if len(root_props) > MAX_TOP_PROPERTIES:
        problems.append("%s: %d top-level properties" % (name, len(root_props)))
    for path, sub in _subschemas(schema, "#"):
        where = "%s %s" % (name, path)
        if isinstance(sub, bool):
            continue
        for key in sub:
            if key not in ALLOWED_KEYWORDS:
                problems.append("%s: keyword %r not allowed" % (where, key))
        types = _types(sub)
        if not types <= ALLOWED_TYPES:
            problems.append("%s: bad type %r" % (where, sub.get("type")))
        if "format" in sub and sub["format"] not in ALLOWED_FORMATS:
            problems.append("%s: format %r not allowed" % (where, sub["format"]))
        if "pattern" in sub:
            p = sub["pattern"]
            if not (p.startswith("^") and p.endswith("$") and not p.endswith("\\$")):
                problems.append("%s: pattern %r not anchored" % (where, p))
            if _pattern_unbounded(p):
                problems.append("%s: pattern %r unbounded" % (where, p))
            try:
                re.compile(ecma_to_python(p))
            except re.error as e:
                problems.append("%s: pattern %r: %s" % (where, p, e))
        if "$ref" in sub:
            ref = sub["$ref"]
            m = re.fullmatch(r"#/(\$defs|definitions)/([A-Za-z0-9_]+)", ref)
            if not m or m.group(2) not in schema.get(m.group(1), {}):
                problems.append("%s: $ref %r does not name a definition of the root" % (where, ref))
        if "nullable" in sub and not isinstance(sub["nullable"], bool):
            problems.append("%s: nullable must be boolean" % where)
        free = ("string" in types and not any(k in sub for k in ("enum", "const", "format", "pattern")))
        if free and not (isinstance(sub.get("maxLength"), int) and sub["maxLength"] <= MAX_FREE_STRING):
            problems.append("%s: free string without maxLength <= %d" % (where, MAX_FREE_STRING))
        if "array" in types or "items" in sub or "prefixItems" in sub:
            if not (isinstance(sub.get("maxItems"), int) and sub["maxItems"] <= MAX_ITEMS):
                problems.append("%s: array without maxItems <= %d" % (where, MAX_ITEMS))
        ap = sub.get("additionalProperties")
        if "object" in types and ap is not False and sub.get("properties") and len(sub.get("required", [])) > 4:
            problems.append("%s: open object with more than 4 required properties" % where)
    return problems


def feature_counts(schemas):
    """{feature: number of schemas using it} for the report."""
    counts = {}

    def bump(feature):
        counts[feature] = counts.get(feature, 0) + 1

    for name, schema in schemas.items():
        used = set()
        subs = list(_subschemas(schema, "#"))
        for path, sub in subs:
            if not isinstance(sub, dict):
                continue
            used.update(k for k in sub if k in ALLOWED_KEYWORDS)
            if "format" in sub:
                used.add("format:" + sub["format"])
            if "null" in _types(sub):
                used.add("type list with null")
            if sub.get("nullable") is True:
                used.add("nullable: true")
            if isinstance(sub.get("minItems"), int) and sub["minItems"] > 0:
                used.add("minItems > 0")
            if sub.get("additionalProperties") is True or isinstance(sub.get("additionalProperties"), dict):
                used.add("additionalProperties true/schema")
            if any(k in sub for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
                used.add("numeric bounds")
            if any(k in sub for k in ("exclusiveMinimum", "exclusiveMaximum")):
                used.add("exclusive bounds")
        if _is_recursive(schema):
            used.add("recursive $ref")
        schema_uri = schema.get("$schema", "") if isinstance(schema, dict) else ""
        used.add("draft-07" if "draft-07" in schema_uri else "draft 2020-12")
        for feature in used:
            bump(feature)
    return dict(sorted(counts.items()))


def _is_recursive(schema):
    """True if some definition can reach itself through $refs."""
    defs = {}
    for key in ("$defs", "definitions"):
        for name, sub in (schema.get(key) or {}).items():
            defs["#/%s/%s" % (key, name)] = sub
    edges = {ref: {s["$ref"] for _, s in _subschemas(sub, "") if isinstance(s, dict) and "$ref" in s}
             for ref, sub in defs.items()}

    def reaches(start, target, seen):
        for nxt in edges.get(start, ()):
            if nxt == target:
                return True
            if nxt not in seen:
                seen.add(nxt)
                if reaches(nxt, target, seen):
                    return True
        return False

    return any(reaches(ref, ref, set()) for ref in defs)


def _annotation_values(schema):
    """Yields (path, subschema, value) for every `default` and `examples` entry."""
    for path, sub in _subschemas(schema, "#"):
        if not isinstance(sub, dict):
            continue
        if "default" in sub:
            yield path + "/default", sub, sub["default"]
        for i, ex in enumerate(sub.get("examples", [])):
            yield "%s/examples/%d" % (path, i), sub, ex

# ---------------------------------------------------------------------------------------------
# Self-test
# ---------------------------------------------------------------------------------------------


def load_schemas(directory=SCHEMA_DIR):
    schemas = {}
    for fn in sorted(os.listdir(directory)):
        if fn.endswith(".json"):
            with open(os.path.join(directory, fn), encoding="utf-8") as f:
                schemas[fn] = parse_output(f.read())
    return schemas


def self_test(verbose=False):
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL " + msg)

    # The format checkers, on their own.
    format_cases = [
        ("date", "2024-02-29", True), ("date", "2023-02-29", False), ("date", "2024-04-31", False),
        ("date", "2024-13-01", False), ("date", "2024-00-10", False), ("date", "2024-01-00", False),
        ("date", "\u0662024-01-01", False), ("date", "2024-01-01 ", False), ("date", "0000-01-01", True),
        ("date", "2000-02-29", True), ("date", "2100-02-29", False),
        ("time", "00:00:00Z", True), ("time", "23:59:59.999999+14:00", True), ("time", "12:00:00z", True),
        ("time", "12:00:00", False), ("time", "24:00:00Z", False), ("time", "12:60:00Z", False),
        ("time", "12:00:60Z", False), ("time", "12:00:00+05", False), ("time", "12:00:00.Z", False),
        ("time", "12:00:00+05:60", False),
        ("date-time", "1999-12-31T23:59:59+01:00", True), ("date-time", "2000-02-29t00:00:00.1z", True),
        ("date-time", "1900-02-29T00:00:00Z", False), ("date-time", "2024-01-01T00:00:00Z\n", False),
        ("date-time", "2024-01-01", False), ("date-time", "2024-01-01T00:00Z", False),
        ("date-time", "0000-01-01T00:00:00Z", True),
        ("uuid", "123e4567-e89b-12d3-a456-426614174000", True), ("uuid", "123E4567-E89B-12D3-A456-426614174000", True),
        ("uuid", "{123e4567-e89b-12d3-a456-426614174000}", False), ("uuid", "123e4567-e89b-12d3-a456-42661417400", False),
        ("uuid", "urn:uuid:123e4567-e89b-12d3-a456-426614174000", False), ("uuid", "g23e4567-e89b-12d3-a456-426614174000", False),
        ("email", "a@b.co", True), ("email", "first.last+tag@sub.example-mail.org", True),
        ("email", "o'brien!#$%&*/=?^_`{|}~-@x.io", True), ("email", "a@b", False), ("email", ".a@b.co", False),
        ("email", "a.@b.co", False), ("email", "a@b..co", False), ("email", "a@b.co.", False), ("email", "a@@b.co", False),
        ("email", "\"a\"@b.co", False), ("email", "a@b-.co", False), ("email", "a@[1.2.3.4]", False), ("email", "", False),
        ("uri", "https://example.com/a?b=c#d", True), ("uri", "urn:isbn:0451450523", True), ("uri", "mailto:a@b.co", True),
        ("uri", "a:", True), ("uri", "http://[::1]:8080/%20x", True), ("uri", "tag:example.com,2024:x", True),
        ("uri", "example.com", False), ("uri", "/relative/path", False), ("uri", "1http://x", False),
        ("uri", "http://x y", False), ("uri", "http://x/%zz", False), ("uri", "http://x/#a#b", False),
        ("uri", "http://x/\u00e9", False), ("uri", "http://x/<a>", False), ("uri", "http://x/\"", False),
        ("uri", "", False),
    ]
    native = _native_checker()
    for fmt, value, expected in format_cases:
        got = FORMAT_CHECKER.conforms(value, fmt)
        if got != expected:
            fail("format %s %r: expected %s, got %s" % (fmt, value, expected, got))
        if verbose and fmt in native.checkers and native.conforms(value, fmt) != expected:
            print("note jsonschema's own %s check says %s for %r" % (fmt, not expected, value))

    # ECMA pattern translation.
    pattern_cases = [
        ("^\\d{2}$", "12", True), ("^\\d{2}$", "\u0661\u0662", False), ("^\\w$", "\u00e9", False),
        ("^\\w$", "_", True), ("^a$", "a\n", False), ("^.$", "\u2028", False), ("^.$", "\u00e9", True),
        ("^[^x]$", "\n", True), ("^\\s$", "\u00a0", True), ("^\\s$", "\x1c", False), ("^[\\d-]{3}$", "1-2", True),
        ("^[\\s]$", "\u3000", True), ("^[^\\s@]{1,3}$", "a@", False), ("^(?<y>[0-9]{2})$", "42", True),
        ("^\\.$", ".", True), ("^\\.$", "a", False), ("^[]$", "", False), ("^[^]$", "\n", True),
    ]
    for pattern, text, expected in pattern_cases:
        try:
            got = ecma_search(pattern, text)
        except re.error as e:
            got = "re.error: %s" % e
        if got != expected:
            fail("pattern %r on %r: expected %s, got %s" % (pattern, text, expected, got))

    # nullable rewriting.
    rw = rewrite_nullable({"$schema": "x", "$defs": {"a": {"type": "string", "nullable": True}},
                           "type": "object", "properties": {"nullable": True, "b": {"$ref": "#/$defs/a"}},
                           "enum": [{"nullable": True}], "nullable": True})
    expected_rw = {"$schema": "x", "$defs": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
                   "anyOf": [{"type": "object", "properties": {"nullable": True, "b": {"$ref": "#/$defs/a"}},
                              "enum": [{"nullable": True}]}, {"type": "null"}]}
    if rw != expected_rw:
        fail("rewrite_nullable: got %s" % json.dumps(rw))
    nullable_cases = [
        ({"type": "string", "nullable": True}, "null", True),
        ({"type": "string", "nullable": False}, "null", False),
        ({"type": "string", "nullable": True, "maxLength": 2}, '"abc"', False),
        ({"$ref": "#/$defs/n", "$defs": {"n": {"type": "integer", "nullable": True}}}, "null", True),
        ({"type": "object", "nullable": True, "properties": {"a": {"$ref": "#/$defs/n"}},
          "$defs": {"n": {"type": "integer"}}}, '{"a": "x"}', False),
        ({"type": "object", "nullable": True, "properties": {"a": {"$ref": "#/$defs/n"}},
          "$defs": {"n": {"type": "integer"}}}, '{"a": 1}', True),
        ({"type": "object", "properties": {"nullable": {"type": "boolean"}}}, '{"nullable": null}', False),
    ]
    for schema, output, expected in nullable_cases:
        got, err = validate_output(schema, output)
        if got != expected:
            fail("nullable case %s on %s: expected %s (%s)" % (json.dumps(schema), output, expected, err))

    # The schema collection.
    try:
        schemas = load_schemas()
    except (OSError, ValueError) as e:
        fail("cannot load schemas: %s" % e)
        schemas = {}
    if len(schemas) < 55:
        fail("only %d schema files" % len(schemas))
    for fn, schema in schemas.items():
        if not re.fullmatch(r"[0-9]{2}_[a-z0-9]+(_[a-z0-9]+)*\.json", fn):
            fail("%s: file name is not NN_snake_case.json" % fn)
        base, _ = validator_class_for(schema)
        try:
            base.check_schema(schema)
        except SchemaError as e:
            fail("%s: not a valid schema: %s" % (fn, e.message))
            continue
        for problem in lint_schema(fn, schema):
            fail(problem)
        if fn not in EXAMPLES:
            fail("%s: no example instance" % fn)
        else:
            ok, err = validate_output(schema, json.dumps(EXAMPLES[fn]))
            if not ok:
                fail("%s: example rejected: %s" % (fn, err))
        rewritten = rewrite_nullable(schema)
        _, cls = validator_class_for(rewritten)
        root_validator = cls(rewritten, format_checker=FORMAT_CHECKER)
        for path, sub, value in _annotation_values(rewritten):
            errors = list(root_validator.evolve(schema=sub).iter_errors(value))
            if errors:
                fail("%s %s: annotation value rejected: %s" % (fn, path, _describe(errors[0])))
    for fn in EXAMPLES:
        if fn not in schemas:
            fail("example for %s, which has no schema file" % fn)
    indices = [fn[:2] for fn in schemas]
    if indices != ["%02d" % i for i in range(1, len(schemas) + 1)]:
        fail("schema files are not numbered 01..%02d without gaps" % len(schemas))

    for fn, output, why, fragment in INVALID:
        if fn not in schemas:
            fail("invalid case names missing schema %s" % fn)
            continue
        ok, err = validate_output(schemas[fn], output)
        if ok:
            fail("%s: accepted %s (must be rejected: %s)" % (fn, output, why))
        elif fragment is not None and fragment not in err:
            fail("%s: %s rejected for another reason than %r: %s" % (fn, output, why, err))
        elif verbose:
            print("ok   rejected %-30s %-40s -> %s" % (fn, why, err))
    for fn, output in VALID:
        if fn not in schemas:
            fail("valid case names missing schema %s" % fn)
            continue
        ok, err = validate_output(schemas[fn], output)
        if not ok:
            fail("%s: rejected %s: %s" % (fn, output, err))

    # The JSON Lines driver.
    import io
    lines = [json.dumps({"id": "good", "schema": schemas.get("62_yes_no_answer.json", {}), "output": '"yes"'}),
             "",
             json.dumps({"id": 7, "schema": schemas.get("62_yes_no_answer.json", {}), "output": '"nope"'}),
             "{not json",
             b'{"id": "raw", "schema": {}, "output": "\xff"}']
    buf = io.StringIO()
    all_ok = process_lines(lines, buf)
    results = [json.loads(l) for l in buf.getvalue().splitlines()]
    if all_ok or [(r["id"], r["valid"]) for r in results] != [("good", True), (7, False), (None, False), (None, False)]:
        fail("process_lines: got %s" % results)

    print("jsonschema %s; native format checks (Draft 2020-12 checker): %s" % (
        _jsonschema_version(),
        ", ".join("%s=%s" % kv for kv in native_format_report().items())))
    if verbose:
        for feature, n in feature_counts(schemas).items():
            print("  %-34s %d" % (feature, n))
    print("%d schemas, %d examples, %d invalid cases, %d extra valid cases: %s" % (
        len(schemas), len(EXAMPLES), len(INVALID), len(VALID), "FAILED (%d)" % len(failures) if failures else "ok"))
    return not failures


def _jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:
        return "?"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--self-test", action="store_true",
                        help="check the validator and the schemas in tests/grammar/schemas, then exit")
    parser.add_argument("-v", "--verbose", action="store_true", help="with --self-test: show every case and feature counts")
    parser.add_argument("--formats", action="store_true", help="print the format rules and exit")
    args = parser.parse_args(argv)
    if args.formats:
        print(FORMAT_RULES)
        return 0
    if args.self_test:
        return 0 if self_test(args.verbose) else 1
    return 0 if process_lines(sys.stdin.buffer, sys.stdout) else 1


if __name__ == "__main__":
    sys.exit(main())
