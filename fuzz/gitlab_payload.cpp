// Fuzz target: GitLab webhook payload parser. Input: first line is the X-Gitlab-Event header,
// the rest is the JSON body (parsed the way ingress does, with a depth limit of 64).

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/ingress/gitlab/parse.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
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
    auto event = linkpilot::ingress::gitlab::parse(header, body.get_object());
    if (!event) {
        return 0;
    }
    // Invariants the rest of the pipeline relies on.
    if (event->provider != linkpilot::events::Provider::gitlab || event->event_name != header ||
        event->repo_name().size() > event->repo.size()) {
        std::abort();
    }
    if (const auto* push = std::get_if<linkpilot::events::Push>(&event->body)) {
        const auto& f = push->changed_files;
        if (!std::is_sorted(f.begin(), f.end()) ||
            std::adjacent_find(f.begin(), f.end()) != f.end()) {
            std::abort();
        }
    }
    return 0;
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

int main(int argc, char** argv) {
    return linkpilot::fuzz::replay_main(argc, argv, "gitlab", LINKPILOT_FUZZ_CORPUS_DIR,
                                        LINKPILOT_FUZZ_SHARED_DIR);
}
#endif
