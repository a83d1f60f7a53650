#include "simulators/scalingo/faults.hpp"

#include <boost/json.hpp>

namespace linkpilot::simulator {

namespace json = boost::json;

bool glob_match(std::string_view pattern, std::string_view text) {
    // Iterative wildcard match with single backtrack point: linear for our short paths.
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos;
    std::size_t mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

bool fault_matches(const Fault& fault, std::string_view method, std::string_view path) {
    if (!fault.method.empty() && fault.method != method) {
        return false;
    }
    if (fault.path.find('*') != std::string::npos) {
        return glob_match(fault.path, path);
    }
    return path.substr(0, fault.path.size()) == fault.path;
}

std::optional<Fault> FaultQueue::take(std::string_view method, std::string_view path) {
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (!fault_matches(*it, method, path)) {
            continue;
        }
        Fault used = *it;
        if (--it->times == 0) {
            faults_.erase(it);
        }
        return used;
    }
    return std::nullopt;
}

namespace {

Expected<std::int64_t, std::string> get_int(const json::object& o, const char* key,
                                            std::int64_t fallback, std::int64_t lo,
                                            std::int64_t hi) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return fallback;
    }
    if (!v->is_int64() && !v->is_uint64()) {
        return Unexpected{std::string(key) + " must be an integer"};
    }
    const std::int64_t n =
        v->is_int64()
            ? v->as_int64()
            : static_cast<std::int64_t>(std::min<std::uint64_t>(v->as_uint64(), INT64_MAX));
    if (n < lo || n > hi) {
        return Unexpected{std::string(key) + " is out of range"};
    }
    return n;
}

}  // namespace

Expected<Fault, std::string> parse_fault(const json::value& v) {
    if (!v.is_object()) {
        return Unexpected{std::string("body must be a JSON object")};
    }
    const auto& o = v.as_object();
    Fault f;
    const auto* path = o.if_contains("path");
    if (path == nullptr || !path->is_string() || path->as_string().empty()) {
        return Unexpected{std::string("path is required")};
    }
    f.path = std::string(path->as_string());
    if (const auto* m = o.if_contains("method"); m != nullptr && !m->is_null()) {
        if (!m->is_string()) {
            return Unexpected{std::string("method must be a string")};
        }
        f.method = std::string(m->as_string());
    }
    auto status = get_int(o, "status", 0, 0, 599);
    auto delay = get_int(o, "delay_ms", 0, 0, 600'000);
    auto times = get_int(o, "times", 1, 1, 1'000'000);
    auto retry = get_int(o, "retry_after", -1, -1, 86'400);
    for (const auto* r : {&status, &delay, &times, &retry}) {
        if (!*r) {
            return Unexpected{r->error()};
        }
    }
    if (*status != 0 && *status < 100) {
        return Unexpected{std::string("status must be an HTTP status")};
    }
    bool reset = false;
    if (const auto* r = o.if_contains("reset"); r != nullptr && !r->is_null()) {
        if (!r->is_bool()) {
            return Unexpected{std::string("reset must be a boolean")};
        }
        reset = r->as_bool();
    }
    if (reset && *status != 0) {
        return Unexpected{std::string("a reset fault serves the call: it takes no status")};
    }
    if (*status == 0 && *delay == 0 && !reset) {
        return Unexpected{std::string("a fault needs a status, a delay_ms or reset")};
    }
    f.reset = reset;
    f.status = static_cast<unsigned>(*status);
    f.delay = std::chrono::milliseconds{*delay};
    f.times = static_cast<unsigned>(*times);
    if (*retry >= 0) {
        f.retry_after = static_cast<unsigned>(*retry);
    }
    if (const auto* b = o.if_contains("body"); b != nullptr && !b->is_null()) {
        f.body = b->is_string() ? std::string(b->as_string()) : json::serialize(*b);
    }
    return f;
}

}  // namespace linkpilot::simulator
