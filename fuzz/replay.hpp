#pragma once

// Replay driver for the fuzz targets (built with -DLINKPILOT_FUZZ_REPLAY, any compiler): runs
// the target's own inputs (fuzz/<target>_corpus/) and every payload of the shared fixture sets
// of one provider (header line prepended, as the fuzzer's input format wants) through
// LLVMFuzzerTestOneInput, so ctest replays the corpus under GCC + ASan/UBSan (mongoose's MAIN).
// With arguments, replays only those files or directories (e.g. a crash file libFuzzer wrote);
// `--write-seeds DIR` writes the shared payloads in the target's input format into DIR instead,
// to seed a libFuzzer run.

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace linkpilot::fuzz {

inline std::string read_all(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void run_one(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

// Every regular file under `path` (or `path` itself), in a stable order.
inline std::size_t replay_path(const std::filesystem::path& path) {
    namespace fs = std::filesystem;
    std::size_t n = 0;
    if (fs::is_regular_file(path)) {
        run_one(read_all(path));
        return 1;
    }
    if (!fs::is_directory(path)) {
        std::fprintf(stderr, "replay: %s: not found\n", path.c_str());
        return 0;
    }
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(path)) {
        if (e.is_regular_file()) {
            files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        run_one(read_all(f));
        ++n;
    }
    return n;
}

// One payload of a shared set (index.json lists file, provider, event_header).
struct SharedEntry {
    std::string set;  // "fixtures" or "corpus": the set's folder name
    std::string file;
    std::string provider;
    std::string event_header;
    std::filesystem::path path;
};

// The entries of a shared set's index.json; none when the set is absent, exit when unreadable.
inline std::vector<SharedEntry> shared_index(const std::filesystem::path& dir) {
    std::vector<SharedEntry> out;
    if (!std::filesystem::exists(dir / "index.json")) {
        return out;
    }
    boost::system::error_code ec;
    auto index = boost::json::parse(read_all(dir / "index.json"), ec);
    if (ec || !index.is_array()) {
        std::fprintf(stderr, "replay: %s/index.json unreadable\n", dir.c_str());
        std::exit(1);
    }
    for (const auto& v : index.get_array()) {
        const auto* o = v.if_object();
        if (o == nullptr) {
            continue;
        }
        const auto* p = o->if_contains("provider");
        const auto* h = o->if_contains("event_header");
        const auto* f = o->if_contains("file");
        if (p == nullptr || h == nullptr || f == nullptr || !p->is_string() || !h->is_string() ||
            !f->is_string()) {
            continue;
        }
        std::string file(f->get_string());
        out.push_back({(dir / "").parent_path().filename().string(), file,
                       std::string(p->get_string()), std::string(h->get_string()), dir / file});
    }
    return out;
}

// A payload in the payload targets' input format: "<header>\n<body>".
inline std::string payload_input(const SharedEntry& e) {
    return e.event_header + "\n" + read_all(e.path);
}

// A shared set's payloads of one provider through the target.
inline std::size_t replay_shared(const std::filesystem::path& dir, std::string_view provider) {
    std::size_t n = 0;
    for (const auto& e : shared_index(dir)) {
        if (e.provider == provider) {
            run_one(payload_input(e));
            ++n;
        }
    }
    return n;
}

// Writes seed files (name, bytes) into `dir` for a libFuzzer run (scripts/fuzz-smoke).
inline int write_seeds(const std::filesystem::path& dir,
                       const std::vector<std::pair<std::string, std::string>>& seeds) {
    std::filesystem::create_directories(dir);
    for (const auto& [name, bytes] : seeds) {
        std::ofstream out(dir / name, std::ios::binary);
        out << bytes;
        if (!out) {
            std::fprintf(stderr, "replay: cannot write %s\n", (dir / name).c_str());
            return 1;
        }
    }
    std::printf("wrote %zu seed(s) to %s\n", seeds.size(), dir.c_str());
    return 0;
}

inline std::filesystem::path shared_set(const char* env_var, const std::filesystem::path& dflt) {
    const char* env = std::getenv(env_var);
    return env != nullptr && *env != '\0' ? std::filesystem::path(env) : dflt;
}

// The files or folders named on the command line (e.g. a crash file libFuzzer wrote).
inline int replay_args(int argc, char** argv) {
    std::size_t n = 0;
    for (int i = 1; i < argc; ++i) {
        n += replay_path(argv[i]);
    }
    std::printf("replayed %zu input(s)\n", n);
    return n > 0 ? 0 : 1;
}

// The target's own corpus; false (and a message) when it is empty.
inline bool replay_own(const char* corpus_dir) {
    const std::size_t own = replay_path(corpus_dir);
    if (own == 0) {
        std::fprintf(stderr, "replay: no inputs in %s\n", corpus_dir);
        return false;
    }
    std::printf("replayed %zu input(s) from %s\n", own, corpus_dir);
    return true;
}

// The files directly in `dirs` whose name ends with `suffix`, sorted.
inline std::vector<std::filesystem::path> files_in(const std::vector<std::filesystem::path>& dirs,
                                                   std::string_view suffix) {
    std::vector<std::filesystem::path> out;
    for (const auto& dir : dirs) {
        for (const auto& e : std::filesystem::directory_iterator(dir)) {
            if (e.is_regular_file() && e.path().filename().string().ends_with(suffix)) {
                out.push_back(e.path());
            }
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// Driver of the targets that read no forge payload (config loader, patterns): their own corpus
// plus the files of `seed_dirs` ending with `suffix` (files of the repository, e.g. the example
// configs); `--write-seeds DIR` copies those into DIR.
inline int replay_files_main(int argc, char** argv, const char* corpus_dir,
                             const std::vector<std::filesystem::path>& seed_dirs,
                             std::string_view suffix) {
    const auto seeds = files_in(seed_dirs, suffix);
    if (argc == 3 && std::string_view(argv[1]) == "--write-seeds") {
        std::vector<std::pair<std::string, std::string>> out;
        for (const auto& f : seeds) {
            out.emplace_back(f.filename().string(), read_all(f));
        }
        return write_seeds(argv[2], out);
    }
    if (argc > 1) {
        return replay_args(argc, argv);
    }
    if (!replay_own(corpus_dir)) {
        return 1;
    }
    for (const auto& f : seeds) {
        run_one(read_all(f));
    }
    std::printf("replayed %zu seed file(s)\n", seeds.size());
    return 0;
}

inline int replay_main(int argc, char** argv, std::string_view provider, const char* corpus_dir,
                       const char* shared_dir) {
    const std::filesystem::path shared(shared_dir);
    const std::pair<const char*, std::filesystem::path> sets[] = {
        {"LINKPILOT_FIXTURES", shared / "fixtures"}, {"LINKPILOT_CORPUS", shared / "corpus"}};
    if (argc == 3 && std::string_view(argv[1]) == "--write-seeds") {
        std::vector<std::pair<std::string, std::string>> seeds;
        for (const auto& [env, dflt] : sets) {
            for (const auto& e : shared_index(shared_set(env, dflt))) {
                if (e.provider == provider) {
                    auto name = e.set + "-" + e.file;
                    std::replace(name.begin(), name.end(), '/', '_');
                    seeds.emplace_back(std::move(name), payload_input(e));
                }
            }
        }
        return write_seeds(argv[2], seeds);
    }
    if (argc > 1) {
        return replay_args(argc, argv);
    }
    if (!replay_own(corpus_dir)) {
        return 1;
    }
    for (const auto& [env, dflt] : sets) {
        auto dir = shared_set(env, dflt);
        if (!std::filesystem::exists(dir / "index.json")) {
            std::printf("SKIPPED: %s not found\n", dir.c_str());
            continue;
        }
        std::printf("replayed %zu %.*s payload(s) from %s\n", replay_shared(dir, provider),
                    static_cast<int>(provider.size()), provider.data(), dir.c_str());
    }
    return 0;
}

}  // namespace linkpilot::fuzz
