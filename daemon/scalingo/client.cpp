#include "daemon/scalingo/client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <cstdlib>

#include "daemon/scalingo/jwt.hpp"
#include "daemon/scalingo/parse.hpp"
#include "daemon/scalingo/requests.hpp"
#include "daemon/scalingo/retry.hpp"
#include "linkpilot_version.hpp"

namespace linkpilot::scalingo {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kUse = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t kMaxPages = 1000;  // a runaway next_page must not loop forever

CallError bad_answer(const std::string& what, const std::string& why) {
    // A 2xx we cannot read: retrying the same call would not read it better.
    return CallError{ErrorKind::fatal, 0, std::nullopt,
                     "unexpected answer from Scalingo to " + what + ": " + why};
}

}  // namespace

std::string ClientOptions::default_user_agent() {
    return std::string("linkpilot/") + linkpilot::kVersion;
}

Expected<std::unique_ptr<Client>, std::string> Client::create(
    ClientOptions options, const Clock& clock, net::any_io_executor executor,
    std::shared_ptr<spdlog::logger> logger) {
    auto api = parse_origin(options.endpoint.api_url);
    if (!api) {
        return Unexpected{"scalingo.api_url: " + api.error()};
    }
    auto auth = parse_origin(options.endpoint.auth_url);
    if (!auth) {
        return Unexpected{"scalingo.auth_url: " + auth.error()};
    }
    HttpOptions http_options;
    http_options.timeouts = HttpTimeouts{options.timeouts.connect, options.timeouts.read};
    http_options.user_agent = options.user_agent;
    http_options.ca_file = options.ca_file;
    http_options.proxy = options.proxy;
    http_options.max_idle_per_origin = options.idle_connections;
    auto transport = HttpTransport::create(executor, std::move(http_options));
    if (!transport) {
        return Unexpected{"scalingo: " + transport.error()};
    }
    if (!logger) {
        logger = spdlog::default_logger();
    }
    return std::unique_ptr<Client>(new Client(std::move(options), std::move(*api), std::move(*auth),
                                              std::move(*transport), clock, std::move(executor),
                                              std::move(logger)));
}

Client::Client(ClientOptions options, Origin api, Origin auth, std::unique_ptr<HttpTransport> http,
               const Clock& clock, net::any_io_executor executor,
               std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)),
      api_(std::move(api)),
      auth_(std::move(auth)),
      http_(std::move(http)),
      clock_(clock),
      executor_(std::move(executor)),
      logger_(std::move(logger)),
      limiter_(options_.rate_limit.requests, options_.rate_limit.per, options_.burst),
      exchange_done_(executor_) {}

bool Client::bearer_fresh() const {
    if (!bearer_) {
        return false;
    }
    // Without `exp` the bearer is kept until Scalingo answers 401.
    return !bearer_expiry_ || *bearer_expiry_ - clock_.now() > options_.refresh_before_expiry;
}

Call<void> Client::exchange(SteadyClock::time_point deadline) {
    ++exchanges_;
    HttpRequest req;
    req.method = http::verb::post;
    req.target = "/v1/tokens/exchange";
    // Basic auth with an empty user and the API token as password.
    req.authorization = "Basic " + base64_encode(":" + std::string(options_.token.reveal()));
    auto res = co_await send(ApiCall::token_exchange, auth_, req, deadline);
    if (!res) {
        auto err = res.error();
        err.message = "token exchange: " + err.message;
        co_return Unexpected{std::move(err)};
    }
    if (res->status == 401) {
        co_return Unexpected{CallError{ErrorKind::fatal, 401, std::nullopt,
                                       "Scalingo rejected the API token (401)"}};
    }
    if (res->status < 200 || res->status >= 300) {
        auto err = error_from_answer(res->status, res->body,
                                     parse_retry_after(res->retry_after, clock_.now()));
        err.message = "token exchange: " + err.message;
        co_return Unexpected{std::move(err)};
    }
    auto token = parse_exchange_answer(res->body);
    if (!token) {
        co_return Unexpected{bad_answer("the token exchange", token.error())};
    }
    bearer_expiry_ = jwt_expiry(*token);
    bearer_ = config::Secret(std::move(*token));
    if (bearer_expiry_) {
        logger_->debug(
            "scalingo: new bearer token, valid for {}s",
            std::chrono::duration_cast<std::chrono::seconds>(*bearer_expiry_ - clock_.now())
                .count());
    } else {
        logger_->debug("scalingo: new bearer token without exp");
    }
    co_return Result<void>{};
}

Call<std::string> Client::bearer(SteadyClock::time_point deadline) {
    for (;;) {
        if (bearer_fresh()) {
            co_return std::string(bearer_->reveal());
        }
        if (!exchanging_) {
            break;
        }
        const auto generation = exchange_generation_;
        // Cancelled (operation_aborted) when the running exchange ends; the error is expected.
        auto [ec] = co_await exchange_done_.async_wait(kUse);
        (void)ec;
        if (exchange_generation_ != generation && last_exchange_error_) {
            co_return Unexpected{*last_exchange_error_};
        }
    }
    if (options_.token.empty()) {
        co_return Unexpected{
            CallError{ErrorKind::fatal, 0, std::nullopt, "no Scalingo API token configured"}};
    }
    exchanging_ = true;
    exchange_done_.expires_at(SteadyClock::time_point::max());
    auto done = co_await exchange(deadline);
    exchanging_ = false;
    ++exchange_generation_;
    last_exchange_error_.reset();
    if (!done) {
        last_exchange_error_ = done.error();
    }
    exchange_done_.cancel();
    if (!done) {
        co_return Unexpected{done.error()};
    }
    co_return std::string(bearer_->reveal());
}

Call<HttpResponse> Client::send(ApiCall call, const Origin& origin, const HttpRequest& request,
                                SteadyClock::time_point deadline) {
    // From taking a connection (an idle one, or a new connect) to the answer: what Scalingo
    // and the network cost, and nothing the client waited for before.
    const auto started = clock_.steady_now();
    auto res = co_await http_->send(origin, request, deadline);
    metrics_.count_call(call, res ? res->status : 0, clock_.steady_now() - started);
    co_return res;
}

Call<HttpResponse> Client::api_attempt(ApiCall call, http::verb method, const std::string& target,
                                       const std::string& body, const std::string& bearer,
                                       SteadyClock::time_point deadline) {
    // Pace before sending (SPEC 4): a burst waits here instead of meeting Scalingo's 429.
    // The wait is the limiter's, computed on the injected clock; it is measured apart from the
    // call (pacing_seconds), which would otherwise look as slow as the queue is long.
    const auto wait = limiter_.acquire(clock_.steady_now());
    metrics_.observe_pacing(wait);
    if (wait > SteadyClock::duration::zero()) {
        net::steady_timer timer(executor_);
        timer.expires_after(wait);
        auto [ec] = co_await timer.async_wait(kUse);
        (void)ec;
    }
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.authorization = "Bearer " + bearer;
    const auto started = clock_.steady_now();
    auto res = co_await send(call, api_, req, deadline);
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now() - started);
    if (!res) {
        logger_->debug("scalingo: {} {} failed after {}ms: {}",
                       std::string(http::to_string(method)), target, took.count(),
                       res.error().message);
    } else {
        logger_->debug("scalingo: {} {} -> {} in {}ms", std::string(http::to_string(method)),
                       target, res->status, took.count());
    }
    co_return res;
}

Call<HttpResponse> Client::api_call(ApiCall call, http::verb method, std::string target,
                                    std::string body) {
    const auto deadline = SteadyClock::now() + options_.timeouts.total;
    auto token = co_await bearer(deadline);
    if (!token) {
        co_return Unexpected{token.error()};
    }
    auto res = co_await api_attempt(call, method, target, body, *token, deadline);
    if (res && res->status == 401) {
        // The bearer was revoked or expired early: refresh once, retry once.
        if (bearer_ && bearer_->reveal() == *token) {
            bearer_.reset();
        }
        token = co_await bearer(deadline);
        if (!token) {
            co_return Unexpected{token.error()};
        }
        res = co_await api_attempt(call, method, target, body, *token, deadline);
    }
    if (!res) {
        co_return res;
    }
    if (res->status < 200 || res->status >= 300) {
        co_return Unexpected{error_from_answer(res->status, res->body,
                                               parse_retry_after(res->retry_after, clock_.now()))};
    }
    co_return res;
}

Call<Deployment> Client::manual_deploy(std::string app, std::string branch) {
    auto req = manual_deploy_request(app, branch);
    auto res = co_await api_call(ApiCall::manual_deploy, req.method, std::move(req.target),
                                 std::move(req.body));
    if (!res) {
        co_return Unexpected{res.error()};
    }
    auto d = parse_deployment_answer(res->body);
    if (!d) {
        co_return Unexpected{bad_answer("manual_deploy", d.error())};
    }
    co_return std::move(*d);
}

Call<ReviewApp> Client::manual_review_app(std::string app, std::uint64_t pull_request) {
    auto req = manual_review_app_request(app, pull_request);
    auto res = co_await api_call(ApiCall::manual_review_app, req.method, std::move(req.target),
                                 std::move(req.body));
    if (!res) {
        co_return Unexpected{res.error()};
    }
    if (res->body.empty()) {
        // 200 without a body: the review app is on its way, under the name Scalingo gives it.
        ReviewApp expected;
        expected.app_name = review_app_name(app, pull_request);
        expected.parent_app_name = std::move(app);
        expected.pull_request = PullRequest{};
        expected.pull_request->number = pull_request;
        co_return expected;
    }
    auto ra = parse_review_app_answer(res->body);
    if (!ra) {
        co_return Unexpected{bad_answer("manual_review_app", ra.error())};
    }
    co_return std::move(*ra);
}

Call<std::vector<ReviewApp>> Client::review_apps(std::string app) {
    const auto first = review_apps_request(app);
    std::vector<ReviewApp> all;
    std::string target = first.target;
    for (std::uint32_t pages = 0; pages < kMaxPages; ++pages) {
        auto res = co_await api_call(ApiCall::review_apps, first.method, target, "");
        if (!res) {
            co_return Unexpected{res.error()};
        }
        auto page = parse_review_apps_answer(res->body);
        if (!page) {
            co_return Unexpected{bad_answer("review_apps", page.error())};
        }
        for (auto& ra : page->items) {
            all.push_back(std::move(ra));
        }
        if (!page->pagination.next_page) {
            break;
        }
        target = first.target + "?page=" + std::to_string(*page->pagination.next_page);
    }
    co_return all;
}

Call<void> Client::delete_app(std::string name) {
    auto req = delete_app_request(name);
    auto res = co_await api_call(ApiCall::delete_app, req.method, std::move(req.target), "");
    if (!res) {
        co_return Unexpected{res.error()};
    }
    co_return Result<void>{};
}

Call<ScmRepoLink> Client::link(std::string app) {
    auto req = link_request(app);
    auto res = co_await api_call(ApiCall::link, req.method, std::move(req.target), "");
    if (!res) {
        co_return Unexpected{res.error()};
    }
    auto l = parse_link_answer(res->body);
    if (!l) {
        co_return Unexpected{bad_answer("scm_repo_link", l.error())};
    }
    co_return std::move(*l);
}

Call<Page<ScmRepoLink>> Client::links(std::uint32_t page) {
    auto req = links_request(page);
    auto res = co_await api_call(ApiCall::links, req.method, std::move(req.target), "");
    if (!res) {
        co_return Unexpected{res.error()};
    }
    auto p = parse_links_answer(res->body);
    if (!p) {
        co_return Unexpected{bad_answer("scm_repo_links", p.error())};
    }
    co_return std::move(*p);
}

Api& ConfiguredApi::api() const {
    if (dry_run) {
        return *dry_run;
    }
    return *client;
}

Expected<ConfiguredApi, std::string> make_api(const config::Scalingo& config, const Clock& clock,
                                              net::any_io_executor executor,
                                              std::shared_ptr<spdlog::logger> logger,
                                              std::size_t parallel_calls) {
    ClientOptions options;
    options.idle_connections = std::max<std::size_t>(parallel_calls, 1);
    options.endpoint = Endpoint{config.api_url, config.auth_url};
    options.token = config.token;
    options.ca_file = config.ca_file;
    options.timeouts = Timeouts{config.timeout.connect, config.timeout.read, config.timeout.total};
    options.rate_limit = config.rate_limit;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): nothing in the daemon calls setenv
    auto proxy = proxy_from_environment([](const char* name) { return std::getenv(name); });
    if (!proxy) {
        return Unexpected{proxy.error()};
    }
    options.proxy = std::move(*proxy);
    auto client = Client::create(std::move(options), clock, std::move(executor), logger);
    if (!client) {
        return Unexpected{client.error()};
    }
    ConfiguredApi out;
    out.client = std::move(*client);
    if (config.dry_run) {
        out.dry_run = std::make_unique<DryRunApi>(*out.client, out.client->api_base_url(), clock,
                                                  std::move(logger));
    }
    return out;
}

}  // namespace linkpilot::scalingo
