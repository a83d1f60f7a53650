#include "events/event.hpp"

namespace linkpilot::events {

std::string_view to_string(Provider p) {
    switch (p) {
        case Provider::github:
            return "github";
        case Provider::gitlab:
            return "gitlab";
    }
    return "unknown";
}

std::string_view to_string(Kind k) {
    switch (k) {
        case Kind::push:
            return "push";
        case Kind::tag:
            return "tag";
        case Kind::pull_request:
            return "pull_request";
        case Kind::ci:
            return "ci";
        case Kind::ping:
            return "ping";
        case Kind::ignored:
            return "ignored";
    }
    return "unknown";
}

std::optional<Kind> rule_kind_from_string(std::string_view s) {
    for (Kind k : {Kind::push, Kind::tag, Kind::pull_request, Kind::ci}) {
        if (to_string(k) == s) {
            return k;
        }
    }
    return std::nullopt;
}

Kind Event::kind() const {
    // The variant's alternatives are declared in the same order as Kind.
    return static_cast<Kind>(body.index());
}

std::string_view Event::repo_name() const {
    std::string_view r = repo;
    auto slash = r.rfind('/');
    return slash == std::string_view::npos ? r : r.substr(slash + 1);
}

std::string_view Event::repo_owner() const {
    std::string_view r = repo;
    auto slash = r.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : r.substr(0, slash);
}

}  // namespace linkpilot::events
