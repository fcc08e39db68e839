// Errors of the chat-template engine. TemplateError is the owl::Error a caller sees: it names the
// template, the line and column, and a kind that mirrors jinja2's exception classes.
#pragma once

#include <exception>
#include <string>

#include "base/error.h"

namespace owl::chat {

// jinja2 / Python counterparts: syntax = TemplateSyntaxError, undefined = UndefinedError,
// type = TypeError/ValueError, raised = TemplateError from raise_exception(), security =
// SecurityError, runtime = TemplateRuntimeError, budget = a resource limit of this engine.
enum class ErrorKind { syntax, undefined, type, raised, security, runtime, budget };
const char* error_kind_name(ErrorKind kind);

class TemplateError : public owl::Error {
 public:
  TemplateError(ErrorKind kind, const std::string& template_name, int line, int column, const std::string& message);
  ErrorKind kind() const { return kind_; }
  int line() const { return line_; }
  int column() const { return column_; }
  // The message alone, without the "name:line:column: " prefix (raise_exception's text).
  const std::string& message() const { return message_; }

 private:
  ErrorKind kind_;
  int line_;
  int column_;
  std::string message_;
};

// Thrown by value operations, filters and methods that do not know where in the template they
// run; the evaluator catches it at the innermost expression and turns it into a TemplateError.
struct ValueError : std::exception {
  ValueError(ErrorKind k, std::string m) : kind(k), message(std::move(m)) {}
  const char* what() const noexcept override { return message.c_str(); }
  ErrorKind kind;
  std::string message;
};

[[noreturn]] inline void throw_type(std::string message) { throw ValueError(ErrorKind::type, std::move(message)); }
[[noreturn]] inline void throw_undefined(std::string message) {
  throw ValueError(ErrorKind::undefined, std::move(message));
}
[[noreturn]] inline void throw_budget(std::string message) { throw ValueError(ErrorKind::budget, std::move(message)); }

}  // namespace owl::chat
