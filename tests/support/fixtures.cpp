#include "tests/support/fixtures.hpp"

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace linkpilot::testing {

namespace {

std::optional<std::filesystem::path> find_dir(const char* env_var, const char* shared_name) {
    if (const char* env = std::getenv(env_var); env != nullptr && *env != '\0') {
        std::filesystem::path p(env);
        if (std::filesystem::exists(p / "index.json")) {
            return p;
        }
        return std::nullopt;
    }
    auto p = std::filesystem::path(LINKPILOT_SOURCE_DIR).parent_path() / "shared" / shared_name;
    if (std::filesystem::exists(p / "index.json")) {
        return p;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::filesystem::path> fixtures_dir() {
    return find_dir("LINKPILOT_FIXTURES", "fixtures");
}

std::optional<std::filesystem::path> corpus_dir() { return find_dir("LINKPILOT_CORPUS", "corpus"); }

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<FixtureEntry> read_index(const std::filesystem::path& dir) {
    std::vector<FixtureEntry> out;
    auto index = boost::json::parse(read_file(dir / "index.json"));
    for (const auto& v : index.as_array()) {
        const auto& o = v.as_object();
        FixtureEntry e;
        e.file = std::string(o.at("file").as_string());
        e.provider = std::string(o.at("provider").as_string());
        e.event_header = std::string(o.at("event_header").as_string());
        e.path = dir / e.file;
        out.push_back(std::move(e));
    }
    return out;
}

std::string sample_push() {
    return read_file(std::filesystem::path(LINKPILOT_SOURCE_DIR) / "config" / "examples" /
                     "payloads" / "github-push-main.json");
}

}  // namespace linkpilot::testing
