#pragma once

// GitHub webhook payload -> events::Event (SPEC 2.1). Pure: no I/O, never throws on bad input.

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "events/event.hpp"

namespace linkpilot::ingress::github {

// event_header is X-GitHub-Event. Errors are human-readable reasons (they become 400 bodies);
// they never quote secrets. Events we do not act on are a valid events::Ignored, not an error.
Expected<events::Event, std::string> parse(std::string_view event_header,
                                           const boost::json::object& payload);

}  // namespace linkpilot::ingress::github
