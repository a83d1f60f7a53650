// Fuzz target: GitLab webhook payload parser (input format in fuzz/payload_target.hpp).

#include <cstddef>
#include <cstdint>

#include "daemon/ingress/gitlab/parse.hpp"
#include "fuzz/payload_target.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return linkpilot::fuzz::fuzz_payload(data, size, linkpilot::events::Provider::gitlab,
                                         linkpilot::ingress::gitlab::parse);
}

#ifdef LINKPILOT_FUZZ_REPLAY
#include "fuzz/replay.hpp"

int main(int argc, char** argv) {
    return linkpilot::fuzz::replay_main(argc, argv, "gitlab", LINKPILOT_FUZZ_CORPUS_DIR,
                                        LINKPILOT_FUZZ_SHARED_DIR);
}
#endif
