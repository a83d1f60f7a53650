#pragma once

// Driving coroutines from a test body: run one awaitable to completion on an io_context, and
// the retry loop the job executor performs durably (attempt, ask the policy, wait, again).

#include <gtest/gtest.h>

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

// Runs `ioc` one handler at a time until `done()`. The real-time bound only stops a broken test
// from hanging (it fails the test); no logic depends on it.
template <class Pred>
void run_until(boost::asio::io_context& ioc, Pred done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!done()) {
        if (std::chrono::steady_clock::now() > give_up) {
            ADD_FAILURE() << "timed out waiting for the io_context";
            return;
        }
        if (ioc.stopped()) {
            ioc.restart();
        }
        ioc.run_one_for(std::chrono::milliseconds(50));
    }
}

// Spawns `a` on `ioc` and runs the loop until it completes (other work keeps running, unlike
// run() above, which stops the loop); rethrows what the coroutine threw.
template <class T>
T await(boost::asio::io_context& ioc, boost::asio::awaitable<T> a) {
    std::optional<T> out;
    std::exception_ptr error;
    bool finished = false;
    boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e, T v) {
        error = e;
        out.emplace(std::move(v));
        finished = true;
    });
    run_until(ioc, [&] { return finished; });
    if (error) {
        std::rethrow_exception(error);
    }
    if (!out) {
        throw std::runtime_error("the coroutine under test did not finish");
    }
    return std::move(*out);
}

inline void await(boost::asio::io_context& ioc, boost::asio::awaitable<void> a) {
    std::exception_ptr error;
    bool finished = false;
    boost::asio::co_spawn(ioc, std::move(a), [&](std::exception_ptr e) {
        error = e;
        finished = true;
    });
    run_until(ioc, [&] { return finished; });
    if (error) {
        std::rethrow_exception(error);
    }
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
