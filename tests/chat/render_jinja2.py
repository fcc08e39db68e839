#!/usr/bin/env python3
"""Renders templates with jinja2 configured as transformers configures it (the reference for
owl's template engine). Reads JSON Lines {"template", "context"} on stdin; writes one JSON line
per input: {"output": text} or {"error": "ExceptionName"}."""
import json
import sys

from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise RuntimeError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers replaces jinja2's tojson (which sorts keys and escapes HTML) with json.dumps.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception  # as transformers defines them
    for line in sys.stdin:
        case = json.loads(line)
        try:
            out = env.from_string(case["template"]).render(**case["context"])
            print(json.dumps({"output": out}))
        except Exception as e:  # noqa: BLE001 - any failure is the answer
            print(json.dumps({"error": type(e).__name__}))


if __name__ == "__main__":
    main()
