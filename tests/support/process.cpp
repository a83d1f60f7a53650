#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;  // NOLINT: POSIX global, read only

namespace linkpilot::testing {

namespace {

constexpr std::chrono::milliseconds kPoll{20};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}

// With LINKPILOT_TEST_LOG_ARCHIVE set (scripts/test sets it), every process's output, its
// arguments, the environment the test gave it and the config it ran with are kept there, so
// scripts/scan-secrets can check the whole suite's logs for every configured secret (issue 10).
std::optional<std::filesystem::path> archive_base(const std::filesystem::path& dir) {
    const char* archive = std::getenv("LINKPILOT_TEST_LOG_ARCHIVE");
    if (archive == nullptr || *archive == '\0') {
        return std::nullopt;
    }
    return std::filesystem::path(archive) / dir.filename();
}

void archive_start(const std::filesystem::path& base, const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env) {
    std::error_code ec;
    std::filesystem::create_directories(base.parent_path(), ec);
    std::ofstream args(base.string() + ".args");
    for (std::size_t i = 0; i < argv.size(); ++i) {
        args << argv[i] << '\n';
        if ((argv[i] == "-c" || argv[i] == "--config") && i + 1 < argv.size()) {
            std::filesystem::copy_file(argv[i + 1], base.string() + ".config",
                                       std::filesystem::copy_options::overwrite_existing, ec);
        }
    }
    std::ofstream vars(base.string() + ".env");
    for (const auto& [k, v] : env) {
        vars << k << '=' << v << '\n';
    }
}

void archive_output(const std::filesystem::path& base, const std::filesystem::path& dir) {
    std::error_code ec;
    for (const char* stream : {"stdout", "stderr"}) {
        std::filesystem::copy_file(dir / stream, base.string() + "." + stream,
                                   std::filesystem::copy_options::overwrite_existing, ec);
    }
}

}  // namespace

std::filesystem::path make_temp_dir(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string templ = (std::filesystem::path(base != nullptr && *base != '\0' ? base : "/tmp") /
                         (prefix + "-XXXXXX"))
                            .string();
    if (::mkdtemp(templ.data()) == nullptr) {
        throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    }
    return templ;
}

Process::Process(const std::string& executable, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env)
    : dir_(make_temp_dir("linkpilot-proc")) {
    std::vector<std::string> argv_s{executable};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);

    std::map<std::string, std::string> merged;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string kv(*e);
        const auto eq = kv.find('=');
        if (eq != std::string::npos) {
            merged[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
    }
    for (const auto& [k, v] : env) {
        merged[k] = v;
    }
    std::vector<std::string> env_s;
    for (const auto& [k, v] : merged) {
        env_s.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_s) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    if (auto base = archive_base(dir_)) {
        archive_start(*base, argv_s, env);
    }
    const std::string out = (dir_ / "stdout").string();
    const std::string err = (dir_ / "stderr").string();
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    const int rc = posix_spawn(&pid_, executable.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        pid_ = -1;
        throw std::runtime_error("posix_spawn " + executable + ": " + std::strerror(rc));
    }
}

Process::~Process() {
    if (pid_ > 0 && !exit_code_) {
        kill();
    }
    if (auto base = archive_base(dir_)) {
        archive_output(*base, dir_);
    }
    // Output files only; keep them when asked, to read a failed test's logs.
    if (std::getenv("LINKPILOT_KEEP_TEST_LOGS") == nullptr) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
}

bool Process::reap(bool block) {
    if (exit_code_ || pid_ <= 0) {
        return true;
    }
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
    if (r == pid_) {
        exit_code_ = decode_status(status);
        return true;
    }
    return false;
}

bool Process::running() { return !reap(false); }

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!reap(false)) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(kPoll);
    }
    return exit_code_;
}

int Process::terminate(std::chrono::milliseconds grace) {
    if (!exit_code_ && pid_ > 0) {
        ::kill(pid_, SIGTERM);
        if (!wait(grace)) {
            return kill();
        }
    }
    return exit_code_.value_or(-1);
}

int Process::kill() {
    if (!exit_code_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        reap(true);
    }
    return exit_code_.value_or(-1);
}

std::string Process::stderr_text() const { return slurp(dir_ / "stderr"); }
std::string Process::stdout_text() const { return slurp(dir_ / "stdout"); }

std::optional<std::string> Process::find_line(const std::function<bool(const std::string&)>& match,
                                              std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        // Decide "exited" before reading, so output written just before exit is still seen.
        const bool exited = !running();
        for (const auto& text : {stderr_text(), stdout_text()}) {
            std::istringstream lines(text);
            std::string line;
            while (std::getline(lines, line)) {
                if (match(line)) {
                    return line;
                }
            }
        }
        if (exited || std::chrono::steady_clock::now() >= deadline) {
            return std::nullopt;
        }
        std::this_thread::sleep_for(kPoll);
    }
}

std::optional<std::string> Process::wait_for_line(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
    return find_line([&](const std::string& l) { return l.find(needle) != std::string::npos; },
                     timeout);
}

std::optional<std::string> Process::wait_for_line(const std::regex& re,
                                                  std::chrono::milliseconds timeout) {
    return find_line([&](const std::string& l) { return std::regex_search(l, re); }, timeout);
}

unsigned short Process::listening_port(std::chrono::milliseconds timeout) {
    // Parsed by hand: constructing a std::regex here trips GCC 12's -Wmaybe-uninitialized
    // under -O1 + ASan.
    auto port_of = [](const std::string& line) -> unsigned short {
        for (const char* scheme : {"listening on http://", "listening on https://"}) {
            const auto at = line.find(scheme);
            if (at == std::string::npos) {
                continue;
            }
            const auto start = at + std::strlen(scheme);
            const auto end = line.find_first_of(" \t/", start);
            const std::string hostport = line.substr(start, end - start);
            const auto colon = hostport.rfind(':');
            if (colon == std::string::npos || colon + 1 == hostport.size() ||
                hostport.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
                return 0;
            }
            const unsigned long port = std::stoul(hostport.substr(colon + 1));
            return port <= 65535 ? static_cast<unsigned short>(port) : 0;
        }
        return 0;
    };
    const auto line = find_line([&](const std::string& l) { return port_of(l) != 0; }, timeout);
    return line ? port_of(*line) : 0;
}

}  // namespace linkpilot::testing
