#pragma once

// GitLab webhook payload -> events::Event (SPEC 2.1). Pure: no I/O, never throws on bad input.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "events/event.hpp"

namespace linkpilot::ingress::gitlab {

// event_header is X-Gitlab-Event ("Push Hook", "Merge Request Hook", ...). Errors are
// human-readable reasons (they become 400 bodies). Hooks we do not act on are a valid
// events::Ignored, not an error: GitLab disables hooks that keep answering errors.
Expected<events::Event, std::string> parse(std::string_view event_header,
                                           const boost::json::object& payload);

}  // namespace linkpilot::ingress::gitlab
