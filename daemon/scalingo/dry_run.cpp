#include "daemon/scalingo/dry_run.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/verb.hpp>

#include "daemon/scalingo/requests.hpp"

namespace linkpilot::scalingo {

DryRunApi::DryRunApi(Api& real, std::string base_url, const Clock& clock,
                     std::shared_ptr<spdlog::logger> logger, bool reads)
    : real_(real),
      base_url_(std::move(base_url)),
      clock_(clock),
      logger_(logger ? std::move(logger) : spdlog::default_logger()),
      reads_(reads) {}

void DryRunApi::log(const ApiRequest& request) const {
    logger_->info("dry run: would call {} {}{}{}{}", std::string(to_string(request.method)),
                  base_url_, request.target, request.body.empty() ? "" : " ", request.body);
}

Call<Deployment> DryRunApi::manual_deploy(std::string app, std::string branch) {
    log(manual_deploy_request(app, branch));
    Deployment d;
    d.id = "dry-run";
    d.status = "queued";
    d.git_ref = std::move(branch);
    d.created_at = clock_.now();
    co_return d;
}

Call<ReviewApp> DryRunApi::manual_review_app(std::string app, std::uint64_t pull_request) {
    log(manual_review_app_request(app, pull_request));
    ReviewApp ra;
    ra.app_name = review_app_name(app, pull_request);
    ra.parent_app_name = std::move(app);
    ra.pull_request = PullRequest{};
    ra.pull_request->number = pull_request;
    ra.created_at = clock_.now();
    co_return ra;
}

Call<std::vector<ReviewApp>> DryRunApi::review_apps(std::string app) {
    if (reads_) {
        co_return co_await real_.review_apps(std::move(app));
    }
    log(review_apps_request(app));
    co_return std::vector<ReviewApp>{};
}

Call<void> DryRunApi::delete_app(std::string name) {
    log(delete_app_request(name));
    co_return Result<void>{};
}

Call<ScmRepoLink> DryRunApi::link(std::string app) {
    if (reads_) {
        co_return co_await real_.link(std::move(app));
    }
    log(link_request(app));
    ScmRepoLink l;
    l.id = "dry-run";
    co_return l;
}

Call<Page<ScmRepoLink>> DryRunApi::links(std::uint32_t page) {
    if (reads_) {
        co_return co_await real_.links(page);
    }
    log(links_request(page));
    co_return Page<ScmRepoLink>{};
}

}  // namespace linkpilot::scalingo
