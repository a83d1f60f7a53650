// Fuzz target: GitHub webhook payload parser (input format in fuzz/payload_target.hpp).

#include <cstddef>
#include <cstdint>

#include "daemon/ingress/github/parse.hpp"
#include "fuzz/payload_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return linkpilot::fuzz::fuzz_payload(data, size, linkpilot::events::Provider::github,
                                         linkpilot::ingress::github::parse);
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

int main(int argc, char** argv) {
    return linkpilot::fuzz::replay_main(argc, argv, "github", LINKPILOT_FUZZ_CORPUS_DIR,
                                        LINKPILOT_FUZZ_SHARED_DIR);
}
#endif
