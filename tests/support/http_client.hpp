#pragma once

// A tiny blocking HTTP/1.1 client for tests (one request per connection, loopback only).

#include <chrono>
#include <map>
#include <string>

namespace linkpilot::testing {

struct HttpResult {
    int status = 0;                              // 0: connection or protocol failure (see error)
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string error;
};

HttpResult http_request(const std::string& host, unsigned short port, const std::string& method,
                        const std::string& target, const std::string& body = {},
                        const std::map<std::string, std::string>& headers = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds{30});

}  // namespace linkpilot::testing
