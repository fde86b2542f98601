#include "services/evolvd/http_server.h"

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "search/problem.h"
#include "services/evolvd/web_assets.h"
#include "services/spec_io.h"
#include "spdlog/spdlog.h"

namespace evolv {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

struct Reply {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
};

http::status HttpStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return http::status::ok;
    case absl::StatusCode::kInvalidArgument:
      return http::status::bad_request;
    case absl::StatusCode::kNotFound:
      return http::status::not_found;
    case absl::StatusCode::kFailedPrecondition:
      return http::status::conflict;
    case absl::StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case absl::StatusCode::kUnavailable:
      return http::status::service_unavailable;
    default:
      return http::status::internal_server_error;
  }
}

std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\"";
}

Reply Error(const absl::Status& status) {
  Reply reply;
  reply.status = HttpStatus(status.code());
  reply.body = "{\"code\": " + JsonString(absl::StatusCodeToString(status.code())) +
               ", \"message\": " + JsonString(std::string(status.message())) + "}\n";
  return reply;
}

template <class T>
Reply Json(const absl::StatusOr<T>& result) {
  if (!result.ok()) return Error(result.status());
  Reply reply;
  reply.body = ToJson(*result, false);
  return reply;
}

// GET /api/jobs/ID/report: the report's text and, per figure, its name, caption and the URL of
// its PNG; the PNG bytes themselves stay out of the JSON.
Reply ReportJson(const absl::StatusOr<std::shared_ptr<const v1::JobReport>>& result) {
  if (!result.ok()) return Error(result.status());
  const v1::JobReport& report = **result;
  Reply reply;
  reply.body = "{\"job_id\": " + JsonString(report.job_id()) +
               ", \"history_size\": " + std::to_string(report.history_size()) +
               ", \"text\": " + JsonString(report.text()) + ", \"figures\": [";
  for (int i = 0; i < report.figures_size(); ++i) {
    const v1::ReportFigure& figure = report.figures(i);
    if (i > 0) reply.body += ", ";
    reply.body += "{\"name\": " + JsonString(figure.name()) +
                  ", \"caption\": " + JsonString(figure.caption()) + ", \"url\": " +
                  JsonString("/api/jobs/" + report.job_id() + "/figures/" + figure.name()) + "}";
  }
  reply.body += "]}\n";
  return reply;
}

// GET /api/jobs/ID/figures/NAME: one figure's PNG. The name is checked before it is looked up,
// so nothing but a figure name ever reaches the lookup.
Reply FigurePng(ServiceCore& core, const std::string& job_id, const std::string& name) {
  if (!IsFigureName(name)) {
    return Error(
        absl::InvalidArgumentError("figure: '" + name + "' is not [a-z0-9][a-z0-9_-]{0,63}\\.png"));
  }
  auto result = core.GetJobReport(job_id);
  if (!result.ok()) return Error(result.status());
  for (const v1::ReportFigure& figure : (*result)->figures()) {
    if (figure.name() != name) continue;
    Reply reply;
    reply.content_type = "image/png";
    reply.body = figure.png();
    return reply;
  }
  return Error(
      absl::NotFoundError("figure: job " + (*result)->job_id() + " has no figure " + name));
}

std::map<std::string, std::string> ParseQuery(const std::string& query) {
  std::map<std::string, std::string> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string part = query.substr(start, end - start);
    const size_t eq = part.find('=');
    if (eq == std::string::npos) {
      params[part] = "";
    } else {
      params[part.substr(0, eq)] = part.substr(eq + 1);
    }
    start = end + 1;
  }
  return params;
}

const WebAsset* FindAsset(const std::string& path) {
  for (size_t i = 0; i < kWebAssetCount; ++i) {
    if (path == kWebAssets[i].path) return &kWebAssets[i];
  }
  return nullptr;
}

Reply Asset(const std::string& path) {
  const WebAsset* asset = FindAsset(path);
  if (!asset) return Error(absl::NotFoundError("no page " + path));
  Reply reply;
  reply.content_type = asset->content_type;
  reply.body.assign(reinterpret_cast<const char*>(asset->data), asset->size);
  return reply;
}

Reply Route(ServiceCore& core, const std::string& target) {
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  const auto params = ParseQuery(q == std::string::npos ? "" : target.substr(q + 1));

  if (path == "/" || path == "/index.html" || path.rfind("/job/", 0) == 0) {
    return Asset("/index.html");
  }
  if (path == "/healthz") {
    Reply reply;
    reply.content_type = "text/plain; charset=utf-8";
    const absl::Status health = core.Health();
    reply.status = health.ok() ? http::status::ok : http::status::service_unavailable;
    reply.body = health.ok() ? "ok\n" : std::string(health.message()) + "\n";
    return reply;
  }
  if (path == "/metrics") {
    Reply reply;
    reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
    reply.body = core.Metrics();
    return reply;
  }
  if (path == "/api/jobs") {
    v1::ListJobsRequest request;
    request.set_page_size(1000);
    auto state = params.find("state");
    if (state != params.end()) {
      v1::JobState parsed;
      if (!v1::JobState_Parse(state->second, &parsed)) {
        return Error(absl::InvalidArgumentError("state: unknown state " + state->second));
      }
      request.add_states(parsed);
    }
    return Json(core.ListJobs(request));
  }
  if (path == "/api/workers") return Json(core.ListWorkers());
  if (path == "/api/stats") return Json(core.GetStats(v1::GetStatsRequest()));
  if (path.rfind("/api/jobs/", 0) == 0) {
    std::string rest = path.substr(std::string("/api/jobs/").size());
    const size_t slash = rest.find('/');
    const std::string id = rest.substr(0, slash);
    const std::string what = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (what.empty()) return Json(core.GetJob(id));
    if (what == "detail") return Json(core.GetJobDetail(id));
    if (what == "report") return ReportJson(core.GetJobReport(id));
    if (what.rfind("figures/", 0) == 0) {
      return FigurePng(core, id, what.substr(std::string("figures/").size()));
    }
    if (what == "evaluations") {
      v1::QueryEvaluationsRequest request;
      request.set_job_id(id);
      auto top = params.find("top");
      if (top != params.end()) {
        if (top->second.empty() || top->second.size() > 6 ||
            top->second.find_first_not_of("0123456789") != std::string::npos) {
          return Error(absl::InvalidArgumentError("top: not a number"));
        }
        request.set_page_size(std::stoul(top->second));
      }
      return Json(core.QueryEvaluations(request));
    }
  }
  if (FindAsset(path)) return Asset(path);
  return Error(absl::NotFoundError("no page " + path));
}

}  // namespace

struct HttpServer::Impl {
  ServiceCore* core = nullptr;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::mutex mutex;
  struct Connection {
    std::shared_ptr<tcp::socket> socket;
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  std::list<Connection> connections;
  std::atomic<bool> stopping{false};

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (stopping) return;
      if (!ec) {
        std::lock_guard<std::mutex> lock(mutex);
        // Reap finished connection threads.
        for (auto it = connections.begin(); it != connections.end();) {
          if (it->finished) {
            it->thread.join();
            it = connections.erase(it);
          } else {
            ++it;
          }
        }
        connections.emplace_back();
        Connection& c = connections.back();
        c.socket = std::make_shared<tcp::socket>(std::move(socket));
        c.thread = std::thread([this, &c] {
          Serve(*c.socket);
          c.finished = true;
        });
      }
      Accept();
    });
  }

  void Serve(tcp::socket& socket) {
    beast::flat_buffer buffer;
    beast::error_code ec;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024);
      http::read(socket, buffer, parser, ec);
      if (ec) break;
      const auto& request = parser.get();
      http::response<http::string_body> response;
      Reply reply;
      if (request.method() != http::verb::get && request.method() != http::verb::head) {
        reply = Error(absl::InvalidArgumentError("method: only GET is served"));
        reply.status = http::status::method_not_allowed;
      } else {
        try {
          reply = Route(*core, std::string(request.target()));
        } catch (const std::exception& e) {
          reply = Error(absl::InternalError(e.what()));
        }
      }
      response.version(request.version());
      response.result(reply.status);
      response.set(http::field::server, "evolvd");
      response.set(http::field::content_type, reply.content_type);
      response.set(http::field::cache_control, "no-store");
      response.set("X-Content-Type-Options", "nosniff");
      response.body() = std::move(reply.body);
      response.keep_alive(request.keep_alive());
      response.prepare_payload();
      http::write(socket, response, ec);
      if (ec || !response.keep_alive()) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
};

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(ServiceCore& core,
                                                              const std::string& bind_address,
                                                              uint16_t port) {
  auto impl = std::make_unique<Impl>();
  impl->core = &core;
  beast::error_code ec;
  const auto address = asio::ip::make_address(bind_address, ec);
  if (ec) return absl::InvalidArgumentError("bind: not an IP address: " + bind_address);
  const tcp::endpoint endpoint(address, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError("http: cannot listen on " + bind_address + ":" +
                                  std::to_string(port) + ": " + ec.message());
  }
  Impl* raw = impl.get();
  raw->Accept();
  raw->accept_thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

HttpServer::~HttpServer() {
  impl_->stopping = true;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  impl_->ioc.stop();
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::lock_guard<std::mutex> lock(impl_->mutex);
  for (auto& c : impl_->connections) {
    beast::error_code ec;
    c.socket->shutdown(tcp::socket::shutdown_both, ec);
  }
  for (auto& c : impl_->connections) {
    if (c.thread.joinable()) c.thread.join();
  }
}

}  // namespace evolv
