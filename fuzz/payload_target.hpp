#pragma once

// The body shared by the forge payload fuzz targets. Input: the first line is the event header
// (X-GitHub-Event / X-Gitlab-Event), the rest the JSON body, parsed the way the ingress does
// (depth limit 64). Aborts when a parsed event breaks an invariant the pipeline relies on.

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "events/event.hpp"

namespace linkpilot::fuzz {

template <class Parse>
int fuzz_payload(const std::uint8_t* data, std::size_t size, events::Provider provider,
                 Parse parse) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto newline = input.find('\n');
    if (newline == std::string_view::npos) {
        return 0;
    }
    std::string_view header = input.substr(0, newline);
    if (!header.empty() && header.back() == '\r') {
        header.remove_suffix(1);
    }
    boost::json::parse_options options;
    options.max_depth = 64;
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(input.substr(newline + 1), ec, {}, options);
    if (ec || !body.is_object()) {
        return 0;
    }
    auto event = parse(header, body.get_object());
    if (!event) {
        return 0;
    }
    if (event->provider != provider || event->event_name != header ||
        event->repo_name().size() > event->repo.size()) {
        std::abort();
    }
    if (const auto* push = std::get_if<events::Push>(&event->body)) {
        const auto& f = push->changed_files;
        if (!std::is_sorted(f.begin(), f.end()) ||
            std::adjacent_find(f.begin(), f.end()) != f.end()) {
            std::abort();
        }
    }
    return 0;
}

}  // namespace linkpilot::fuzz
