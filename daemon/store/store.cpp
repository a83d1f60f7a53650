#include "daemon/store/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>

#include "common/iso_time.hpp"
#include "daemon/store/detail.hpp"

namespace linkpilot::store {

std::string_view to_string(StoreError::Kind k) {
    switch (k) {
        case StoreError::Kind::busy:
            return "busy";
        case StoreError::Kind::full:
            return "full";
        case StoreError::Kind::readonly:
            return "readonly";
        case StoreError::Kind::io:
            return "io";
        case StoreError::Kind::corrupt:
            return "corrupt";
        case StoreError::Kind::invalid:
            return "invalid";
        case StoreError::Kind::not_found:
            return "not_found";
        case StoreError::Kind::invalid_state:
            return "invalid_state";
        case StoreError::Kind::cancelled:
            return "cancelled";
        case StoreError::Kind::other:
            return "other";
    }
    return "other";
}

SweepHolder this_process(std::string command, TimePoint since) {
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) {
        host[0] = '\0';
    }
    return SweepHolder{.pid = ::getpid(),
                       .host = host[0] != '\0' ? host.data() : "?",
                       .command = std::move(command),
                       .since = since};
}

std::string to_string(const SweepHolder& h) {
    return "linkpilot " + h.command + " (pid " + std::to_string(h.pid) + " on " + h.host +
           ", since " + iso_time(h.since) + ")";
}

}  // namespace linkpilot::store

namespace linkpilot::store::detail {

bool known_action(std::string_view a) {
    return a == kActionDeploy || a == kActionReviewApp || a == kActionDeleteReviewApp;
}

std::optional<StoreError> check_accept(const NewDelivery& d, const std::vector<NewJob>& jobs) {
    if (d.id.empty() || d.provider.empty()) {
        return StoreError{StoreError::Kind::invalid, "delivery without id or provider"};
    }
    for (const auto& j : jobs) {
        if (!known_action(j.action)) {
            return StoreError{StoreError::Kind::invalid, "unknown action '" + j.action + "'"};
        }
        if (j.app.empty()) {
            return StoreError{StoreError::Kind::invalid, "job without app"};
        }
    }
    return std::nullopt;
}

TimePoint first_attempt_at(const NewDelivery& d, const NewJob& j) {
    TimePoint next = d.received_at;
    if (j.debounce) {
        next += *j.debounce;
    }
    return std::max(next, j.not_before);
}

std::vector<std::string_view> apps_to_claim(const std::vector<Transition>& transitions,
                                            const std::vector<std::string>& named) {
    std::vector<std::string_view> apps;
    auto add = [&apps](std::string_view app) {
        if (std::find(apps.begin(), apps.end(), app) == apps.end()) {
            apps.push_back(app);
        }
    };
    for (const auto& t : transitions) {
        add(t.app);
    }
    for (const auto& app : named) {
        add(app);
    }
    return apps;
}

bool may_follow(const Job& next, TimePoint now) {
    return !next.debounce_key && next.next_attempt_at <= now;
}

StoreError handover_not_pending(std::int64_t job_id) {
    return StoreError{StoreError::Kind::invalid_state,
                      "job " + std::to_string(job_id) + " was started but is no longer pending"};
}

StoreError cancel_refused(const Job& job, std::int64_t running_id) {
    const std::string behind =
        running_id > 0 ? "running job " + std::to_string(running_id) : "a running job";
    return StoreError{StoreError::Kind::invalid_state,
                      "job " + std::to_string(job.id) + " is next in " + job.app +
                          "'s queue behind " + behind +
                          " and may be starting already, so it cannot be cancelled"};
}

}  // namespace linkpilot::store::detail
