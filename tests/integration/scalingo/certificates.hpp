#pragma once

// A throwaway PKI made at test time with the `openssl` CLI: one CA and leaf certificates it
// signs, each for the subjectAltName entries the test asks for. Nothing is checked into the
// repository, and nothing outlives the test (the directory is removed on destruction).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace linkpilot::testing {

// The `openssl` executable on PATH, if any (posix_spawn needs a full path).
inline std::optional<std::filesystem::path> find_openssl() {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / "openssl";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

struct LeafCertificate {
    std::filesystem::path cert;
    std::filesystem::path key;
};

class TestPki {
  public:
    TestPki() : dir_(make_temp_dir("linkpilot-pki")) {
        openssl_ = find_openssl();
        if (!openssl_) {
            error_ = "no openssl executable on PATH";
            return;
        }
        write(dir_ / "ca.cnf",
              "[req]\ndistinguished_name = dn\nprompt = no\n"
              "[dn]\nCN = linkpilot test CA\n"
              "[ca_ext]\nbasicConstraints = critical,CA:TRUE\n"
              "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n");
        run({"req", "-x509", "-config", (dir_ / "ca.cnf").string(), "-extensions", "ca_ext",
             "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-keyout", ca_key().string(), "-out", ca_cert().string()});
    }
    ~TestPki() {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    // Empty when every openssl step so far worked.
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] std::filesystem::path ca_cert() const { return dir_ / "ca.pem"; }
    [[nodiscard]] std::filesystem::path ca_key() const { return dir_ / "ca.key"; }
    [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

    // A server certificate signed by the CA; `san` like "DNS:localhost,IP:127.0.0.1".
    LeafCertificate issue(const std::string& name, const std::string& common_name,
                          const std::string& san) {
        LeafCertificate leaf{dir_ / (name + ".pem"), dir_ / (name + ".key")};
        const auto cnf = dir_ / (name + ".cnf");
        const auto csr = dir_ / (name + ".csr");
        write(cnf, "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = " + common_name +
                       "\n[server_ext]\nbasicConstraints = critical,CA:FALSE\n"
                       "keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n"
                       "authorityKeyIdentifier = keyid\nsubjectAltName = " +
                       san + "\n");
        run({"req", "-new", "-config", cnf.string(), "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", leaf.key.string(), "-out",
             csr.string()});
        run({"x509", "-req", "-in", csr.string(), "-CA", ca_cert().string(), "-CAkey",
             ca_key().string(), "-set_serial", std::to_string(++serial_), "-days", "2", "-extfile",
             cnf.string(), "-extensions", "server_ext", "-out", leaf.cert.string()});
        return leaf;
    }

  private:
    static void write(const std::filesystem::path& p, const std::string& text) {
        std::ofstream(p) << text;
    }

    void run(const std::vector<std::string>& args) {
        if (!error_.empty()) {
            return;
        }
        Process openssl(openssl_->string(), args);
        const auto code = openssl.wait(std::chrono::seconds(30));
        if (!code || *code != 0) {
            error_ = "openssl " + args.front() + " failed: " + openssl.stderr_text();
        }
    }

    std::filesystem::path dir_;
    std::optional<std::filesystem::path> openssl_;
    std::string error_;
    int serial_ = 1;
};

}  // namespace linkpilot::testing
