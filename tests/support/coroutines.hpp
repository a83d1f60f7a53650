#pragma once

// Driving coroutines from a test body: run one awaitable to completion on an io_context, and
// the retry loop the job executor performs durably (attempt, ask the policy, wait, again).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/expected.hpp"
#include "daemon/scalingo/api.hpp"
#include "daemon/scalingo/retry.hpp"

namespace linkpilot::testing {

// Runs `make()`'s awaitable on `ioc` until it completes, then stops the loop (server sessions,
// proxies and timers still pending are parked until the next run) and returns its result. A
// coroutine that throws or never finishes fails the test with the reason.
template <class T>
T run(boost::asio::io_context& ioc, std::function<boost::asio::awaitable<T>()> make) {
    std::optional<T> result;
    std::string error;
    boost::asio::co_spawn(
        ioc,
        [&]() -> boost::asio::awaitable<void> {
            try {
                result.emplace(co_await make());
            } catch (const std::exception& e) {
                error = e.what();
            }
            ioc.stop();
        },
        boost::asio::detached);
    ioc.run();
    ioc.restart();
    if (!result) {
        throw std::runtime_error(error.empty() ? "the coroutine under test did not finish"
                                               : "the coroutine under test threw: " + error);
    }
    return std::move(*result);
}

template <class T>
struct Attempts {
    std::optional<Expected<T, scalingo::CallError>> result;
    std::uint32_t count = 0;
    std::vector<std::chrono::milliseconds> delays;
};

// `wait(delay)` passes the time between attempts: a fake clock's advance in unit tests, a real
// timer against the simulator.
template <class T>
boost::asio::awaitable<Attempts<T>> with_retries(
    std::function<scalingo::Call<T>()> call, const scalingo::RetryPolicy& policy,
    std::function<boost::asio::awaitable<void>(std::chrono::milliseconds)> wait) {
    std::mt19937_64 rng(6);
    Attempts<T> out;
    for (;;) {
        out.result.emplace(co_await call());
        ++out.count;
        if (*out.result) {
            co_return out;
        }
        const auto decision = scalingo::decide(policy, out.result->error(), out.count, rng);
        if (!decision.retry) {
            co_return out;
        }
        out.delays.push_back(decision.delay);
        co_await wait(decision.delay);
    }
}

}  // namespace linkpilot::testing
