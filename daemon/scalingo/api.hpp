#pragma once

// The Scalingo calls linkpilot makes (SPEC 4), as an interface: the job executor and the pruner
// depend on this and fake it in their tests; `Client` (client.hpp) is the real one. Each call
// is one attempt: retrying is the caller's job, driven by `decide` (retry.hpp).

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "daemon/scalingo/errors.hpp"
#include "daemon/scalingo/types.hpp"

namespace linkpilot::scalingo {

template <class T>
using Result = Expected<T, CallError>;
template <class T>
using Call = boost::asio::awaitable<Result<T>>;

class Api {
  public:
    virtual ~Api() = default;

    // POST /v1/apps/{app}/scm_repo_link/manual_deploy {"branch": B}
    virtual Call<Deployment> manual_deploy(std::string app, std::string branch) = 0;
    // POST /v1/apps/{app}/scm_repo_link/manual_review_app {"pull_request_id": N}
    virtual Call<ReviewApp> manual_review_app(std::string app, std::uint64_t pull_request) = 0;
    // GET /v1/apps/{app}/scm_repo_link/review_apps, every page
    virtual Call<std::vector<ReviewApp>> review_apps(std::string app) = 0;
    // DELETE /v1/apps/{name}?current_name={name}
    virtual Call<void> delete_app(std::string name) = 0;
    // GET /v1/apps/{app}/scm_repo_link
    virtual Call<ScmRepoLink> link(std::string app) = 0;
    // GET /v1/scm_repo_links?page=N (1-based)
    virtual Call<Page<ScmRepoLink>> links(std::uint32_t page) = 0;
};

}  // namespace linkpilot::scalingo
