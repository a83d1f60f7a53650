#pragma once

// Dry run (`scalingo.dry_run`, `prune --dry-run`): an Api in front of the real client that logs
// each write it would make ("dry run: would call POST https://...") and answers as Scalingo
// would have, without sending it. Reads still go out, since they change nothing and the pruner
// reports what it would delete from them, unless `reads` is false.

#include <memory>
#include <string>

#include "common/clock.hpp"
#include "daemon/scalingo/api.hpp"

namespace spdlog {
class logger;
}

namespace linkpilot::scalingo {

struct ApiRequest;

class DryRunApi final : public Api {
  public:
    // `base_url` prefixes the logged targets ("https://api.osc-fr1.scalingo.com").
    DryRunApi(Api& real, std::string base_url, const Clock& clock,
              std::shared_ptr<spdlog::logger> logger, bool reads = true);

    Call<Deployment> manual_deploy(std::string app, std::string branch) override;
    Call<ReviewApp> manual_review_app(std::string app, std::uint64_t pull_request) override;
    Call<std::vector<ReviewApp>> review_apps(std::string app) override;
    Call<void> delete_app(std::string name) override;
    Call<ScmRepoLink> link(std::string app) override;
    Call<Page<ScmRepoLink>> links(std::uint32_t page) override;

  private:
    void log(const ApiRequest& request) const;

    Api& real_;
    std::string base_url_;
    const Clock& clock_;
    std::shared_ptr<spdlog::logger> logger_;
    bool reads_;
};

}  // namespace linkpilot::scalingo
