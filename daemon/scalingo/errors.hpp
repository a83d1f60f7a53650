#pragma once

// One error type for every Scalingo call (STYLE 5): retryable or fatal, with the HTTP status
// (0 when the request never got an answer) and Scalingo's message made readable.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace linkpilot::scalingo {

enum class ErrorKind { retryable, fatal };

struct CallError {
    ErrorKind kind = ErrorKind::fatal;
    unsigned status = 0;  // 0: transport (DNS, connect, TLS, timeout)
    std::optional<std::chrono::milliseconds> retry_after;
    std::string message;

    [[nodiscard]] bool retryable() const { return kind == ErrorKind::retryable; }
};

// SPEC 4: 429, 5xx (and 408) are worth retrying; any other 4xx fails at once.
[[nodiscard]] ErrorKind classify_status(unsigned status);

// "422 Unprocessable Entity: branch: can't be blank" from Scalingo's error bodies:
// {"error": "..."}, {"resource": "app", "error": "not found"}, {"errors": {"field": ["..."]}},
// or a plain-text body (kept to one short line).
[[nodiscard]] std::string format_error(unsigned status, std::string_view body);

// A CallError for a non-2xx answer: kind from the status, message from the body.
[[nodiscard]] CallError error_from_answer(unsigned status, std::string_view body,
                                          std::optional<std::chrono::milliseconds> retry_after);

// A transport failure (no HTTP answer): always retryable unless `fatal` says otherwise.
[[nodiscard]] CallError transport_error(std::string message, ErrorKind kind = ErrorKind::retryable);

}  // namespace linkpilot::scalingo
