#include <iostream>

#include "daemon/app/commands.hpp"
#include "simulators/scalingo/rate_limiter.hpp"
#include "simulators/scalingo/server.hpp"

namespace linkpilot::app {

int run_simulate(const SimulateOptions& o) {
    simulator::ServerOptions options;
    options.listen = o.listen;
    if (!o.state.empty()) {
        options.state_file = o.state;
    }
    if (!o.seed.empty()) {
        options.seed_file = o.seed;
    }
    if (!o.token.empty()) {
        options.api_token = o.token;
    }
    if (!o.rate_limit.empty()) {
        auto n = simulator::parse_rate_limit(o.rate_limit);
        if (!n) {
            std::cerr << "linkpilot: simulate-scalingo: " << n.error() << "\n";
            return kExitError;
        }
        options.rate_limit_per_minute = *n;
    }
    options.tls_cert = o.tls_cert;
    options.tls_key = o.tls_key;
    return simulator::run_server(options);
}

}  // namespace linkpilot::app
