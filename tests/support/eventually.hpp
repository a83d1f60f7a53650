#pragma once

// Waiting on real processes (integration tests): poll a condition with a deadline, never a
// fixed sleep.

#include <chrono>
#include <functional>

namespace linkpilot::testing {

// Polls `done` every 20 ms until it holds or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace linkpilot::testing
