#pragma once

// Failures injected by tests through POST /_sim/faults: queued in order, each matching call
// consumes one use of the first fault that matches it.

#include <boost/json/value.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"

namespace linkpilot::simulator {

struct Fault {
    // A glob ('*' matches any run of characters, '/' included) when it contains '*', else a
    // path prefix.
    std::string path;
    std::string method;                   // empty: any method
    unsigned status = 0;                  // 0: no forced status, only the delay
    std::optional<unsigned> retry_after;  // seconds, sent as Retry-After
    std::chrono::milliseconds delay{0};
    unsigned times = 1;
    std::optional<std::string> body;  // default: a JSON error (plain text for 429)
    // The call is served (it takes effect) but the connection is reset halfway through the
    // answer: the client cannot know whether it happened.
    bool reset = false;
};

// Glob match where '*' spans anything; every other character is literal.
bool glob_match(std::string_view pattern, std::string_view text);
bool fault_matches(const Fault& fault, std::string_view method, std::string_view path);

// Parses the body of POST /_sim/faults; the error is a message for a 422.
Expected<Fault, std::string> parse_fault(const boost::json::value& v);

class FaultQueue {
  public:
    void add(Fault f) { faults_.push_back(std::move(f)); }
    void clear() { faults_.clear(); }
    [[nodiscard]] std::size_t size() const { return faults_.size(); }
    // The first fault matching the call, with one use consumed (removed when used up).
    std::optional<Fault> take(std::string_view method, std::string_view path);

  private:
    std::deque<Fault> faults_;
};

}  // namespace linkpilot::simulator
