#pragma once

// A hand-written fake of scalingo::Api (STYLE 10): records every call, answers from a script
// (errors queued per method; success otherwise), keeps a list of review apps per parent app
// that delete_app removes from, and can hold calls until the test releases them, so a test can
// observe what runs while a call is "in flight" without sleeping.

// GCC 12 warns falsely on Asio coroutine frames at -O1 (see daemon/scalingo/CMakeLists.txt).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/scalingo/api.hpp"

namespace linkpilot::testing {

class FakeApi final : public scalingo::Api {
  public:
    struct Call {
        std::string method;  // manual_deploy, manual_review_app, review_apps, delete_app, ...
        std::string app;     // the app (or review app) named in the path
        std::string arg;     // branch, PR number, or empty
        bool operator==(const Call&) const = default;
    };

    // Every call made, in order (recorded when the call starts, before any hold).
    std::vector<Call> calls;
    // Review apps returned by review_apps(parent); delete_app removes by app_name.
    std::map<std::string, std::vector<scalingo::ReviewApp>> review_apps_by_parent;

    // The next call of `method` answers `error` (queued: one per call, in order).
    void fail_next(const std::string& method, scalingo::CallError error) {
        script_[method].push_back(std::move(error));
    }
    static scalingo::CallError http_error(unsigned status, std::string message = {}) {
        scalingo::CallError e;
        e.kind = scalingo::classify_status(status);
        e.status = status;
        e.message = message.empty() ? std::to_string(status) + " from fake" : std::move(message);
        return e;
    }

    // While holding, calls wait (after being recorded) until release().
    void hold() { holding_ = true; }
    void release() {
        holding_ = false;
        for (auto* t : held_) {
            t->cancel();
        }
        held_.clear();
    }
    [[nodiscard]] std::size_t held() const { return held_.size(); }

    [[nodiscard]] std::size_t count(const std::string& method) const {
        return static_cast<std::size_t>(std::count_if(
            calls.begin(), calls.end(), [&](const Call& c) { return c.method == method; }));
    }

    scalingo::Call<scalingo::Deployment> manual_deploy(std::string app,
                                                       std::string branch) override {
        calls.push_back({"manual_deploy", app, branch});
        co_await gate();
        if (auto e = scripted("manual_deploy")) {
            co_return Unexpected{std::move(*e)};
        }
        scalingo::Deployment d;
        d.id = "dep-" + std::to_string(++next_id_);
        d.status = "queued";
        d.git_ref = branch;
        co_return d;
    }

    scalingo::Call<scalingo::ReviewApp> manual_review_app(std::string app,
                                                          std::uint64_t pull_request) override {
        calls.push_back({"manual_review_app", app, std::to_string(pull_request)});
        co_await gate();
        if (auto e = scripted("manual_review_app")) {
            co_return Unexpected{std::move(*e)};
        }
        scalingo::ReviewApp ra;
        ra.id = "ra-" + std::to_string(++next_id_);
        ra.app_name = scalingo::review_app_name(app, pull_request);
        ra.parent_app_name = app;
        ra.pull_request = scalingo::PullRequest{};
        ra.pull_request->number = pull_request;
        co_return ra;
    }

    scalingo::Call<std::vector<scalingo::ReviewApp>> review_apps(std::string app) override {
        calls.push_back({"review_apps", app, {}});
        co_await gate();
        if (auto e = scripted("review_apps")) {
            co_return Unexpected{std::move(*e)};
        }
        co_return review_apps_by_parent[app];
    }

    scalingo::Call<void> delete_app(std::string name) override {
        calls.push_back({"delete_app", name, {}});
        co_await gate();
        if (auto e = scripted("delete_app")) {
            co_return Unexpected{std::move(*e)};
        }
        for (auto& [parent, apps] : review_apps_by_parent) {
            std::erase_if(apps, [&](const scalingo::ReviewApp& ra) { return ra.app_name == name; });
        }
        co_return scalingo::Result<void>{};
    }

    scalingo::Call<scalingo::ScmRepoLink> link(std::string app) override {
        calls.push_back({"link", app, {}});
        co_await gate();
        if (auto e = scripted("link")) {
            co_return Unexpected{std::move(*e)};
        }
        scalingo::ScmRepoLink l;
        l.app_id = app;
        co_return l;
    }

    scalingo::Call<scalingo::Page<scalingo::ScmRepoLink>> links(std::uint32_t page) override {
        calls.push_back({"links", {}, std::to_string(page)});
        co_await gate();
        if (auto e = scripted("links")) {
            co_return Unexpected{std::move(*e)};
        }
        co_return scalingo::Page<scalingo::ScmRepoLink>{};
    }

  private:
    boost::asio::awaitable<void> gate() {
        if (!holding_) {
            co_return;
        }
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
        t.expires_at(boost::asio::steady_timer::time_point::max());
        held_.push_back(&t);
        co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        std::erase(held_, &t);
    }

    std::optional<scalingo::CallError> scripted(const std::string& method) {
        auto it = script_.find(method);
        if (it == script_.end() || it->second.empty()) {
            return std::nullopt;
        }
        auto e = std::move(it->second.front());
        it->second.pop_front();
        return e;
    }

    std::map<std::string, std::deque<scalingo::CallError>> script_;
    std::vector<boost::asio::steady_timer*> held_;
    bool holding_ = false;
    std::uint64_t next_id_ = 0;
};

}  // namespace linkpilot::testing

#pragma GCC diagnostic pop
