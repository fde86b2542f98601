#include "services/evolvd/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <list>
#include <map>
#include <memory>
#include <optional>
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

// GET /api/jobs/ID/report: the report's text, per figure its name, caption and the URL of its
// PNG (the PNG bytes themselves stay out of the JSON), and its charts (v1::ReportChart in
// protobuf's JSON mapping: fields at their defaults are absent, non-finite numbers are strings).
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
  reply.body += "], \"charts\": [";
  for (int i = 0; i < report.charts_size(); ++i) {
    if (i > 0) reply.body += ", ";
    reply.body += ToJson(report.charts(i), false);
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

// One request's reply, whatever the method; a handler that throws answers 500.
http::response<http::string_body> Handle(ServiceCore& core,
                                         const http::request<http::string_body>& request) {
  Reply reply;
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    reply = Error(absl::InvalidArgumentError("method: only GET is served"));
    reply.status = http::status::method_not_allowed;
  } else {
    try {
      reply = Route(core, std::string(request.target()));
    } catch (const std::exception& e) {
      reply = Error(absl::InternalError(e.what()));
    } catch (...) {
      reply = Error(absl::InternalError("handler: unknown exception"));
    }
  }
  http::response<http::string_body> response;
  response.version(request.version());
  response.result(reply.status);
  response.set(http::field::server, "evolvd");
  response.set(http::field::content_type, reply.content_type);
  response.set(http::field::cache_control, "no-store");
  response.set("X-Content-Type-Options", "nosniff");
  response.body() = std::move(reply.body);
  response.keep_alive(request.keep_alive() && reply.status != http::status::method_not_allowed);
  response.prepare_payload();
  return response;
}

// The answer to a request the parser refused (too large): sent, then the connection closes.
http::response<http::string_body> Refusal(http::status status, const std::string& message) {
  Reply reply = Error(absl::ResourceExhaustedError(message));
  http::response<http::string_body> response(status, 11);
  response.set(http::field::server, "evolvd");
  response.set(http::field::content_type, reply.content_type);
  response.set(http::field::cache_control, "no-store");
  response.body() = std::move(reply.body);
  response.keep_alive(false);
  response.prepare_payload();
  return response;
}

// A request's header and body limits (docs/limits.md).
constexpr uint32_t kHeaderLimitBytes = 16 * 1024;
constexpr uint64_t kBodyLimitBytes = 1024 * 1024;
// How long the accept loop waits after a failed accept (e.g. out of file descriptors).
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

class Session;

}  // namespace

// Everything but the handlers runs on the one I/O thread, so the session list needs no lock.
struct HttpServer::Impl {
  ServiceCore* core = nullptr;
  Options options;
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  asio::steady_timer accept_retry{ioc};
  std::optional<asio::thread_pool> handlers;
  std::thread io_thread;
  uint16_t port = 0;
  std::list<Session*> sessions;  // open connections, oldest first
  bool stopping = false;         // I/O thread only

  void Accept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Stop();
};

namespace {

// One connection: waits for a request (idle), reads it, has a handler thread answer it, writes
// the answer, and again while the client keeps the connection alive. Runs on the I/O thread
// except the handler; ends in Close(), which also takes it off the server's list.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)) {}
  ~Session() {
    if (registered_) server_.sessions.erase(slot_);
  }

  void Start() {
    slot_ = server_.sessions.insert(server_.sessions.end(), this);
    registered_ = true;
    stream_.expires_after(server_.options.request_timeout);  // from the accept, for request 1
    WaitForRequest();
  }

  // Where the connection is: waiting for the first byte of a request, reading one, or having it
  // answered (handler or write). The first two may be closed to make room for a new connection.
  enum class Phase { kIdle, kReading, kAnswering };
  Phase phase() const { return phase_; }

  void Close() {
    if (registered_) {
      server_.sessions.erase(slot_);
      registered_ = false;
    }
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void WaitForRequest() {
    if (!registered_) return;
    phase_ = Phase::kIdle;
    if (!first_) stream_.expires_after(server_.options.idle_timeout);
    if (buffer_.size() > 0) return ReadRequest();  // pipelined: already here
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->Close();
                              self->ReadRequest();
                            });
  }

  void ReadRequest() {
    if (!registered_) return;
    phase_ = Phase::kReading;
    if (!first_) stream_.expires_after(server_.options.request_timeout);
    first_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimitBytes);
    parser_->body_limit(kBodyLimitBytes);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    phase_ = Phase::kAnswering;
    if (ec == http::error::header_limit) {
      return Write(std::make_shared<http::response<http::string_body>>(
          Refusal(http::status::request_header_fields_too_large, "request header over 16 KiB")));
    }
    if (ec == http::error::body_limit) {
      return Write(std::make_shared<http::response<http::string_body>>(
          Refusal(http::status::payload_too_large, "request body over 1 MiB")));
    }
    if (ec || !registered_) return Close();  // timeout, end of stream, malformed, stopping
    stream_.expires_never();                 // no I/O while the handler runs
    auto request = std::make_shared<http::request<http::string_body>>(parser_->release());
    auto work = asio::make_work_guard(server_.ioc);  // keeps the I/O thread for the reply
    asio::post(*server_.handlers, [self = shared_from_this(), request, work]() mutable {
      std::shared_ptr<http::response<http::string_body>> response;
      try {
        response = std::make_shared<http::response<http::string_body>>(
            Handle(*self->server_.core, *request));
      } catch (...) {  // out of memory building the reply: nothing to send
      }
      HttpServer::Impl& server = self->server_;
      // The session's last reference is dropped on the I/O thread, as everything else.
      asio::post(server.ioc, [self = std::move(self), response] {
        if (!response) return self->Close();
        self->Write(response);
      });
      work.reset();
    });
  }

  void Write(std::shared_ptr<http::response<http::string_body>> response) {
    if (!registered_) return Close();
    stream_.expires_after(server_.options.idle_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response](beast::error_code ec, size_t) {
                        if (ec || response->need_eof()) return self->Close();
                        self->WaitForRequest();
                      });
  }

  HttpServer::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::list<Session*>::iterator slot_;
  bool registered_ = false;
  Phase phase_ = Phase::kIdle;
  bool first_ = true;
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      [this](beast::error_code ec, tcp::socket socket) { OnAccept(ec, std::move(socket)); });
}

void HttpServer::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (stopping || !acceptor.is_open()) return;
  if (ec) {
    // Out of descriptors or similar: retry shortly instead of spinning.
    spdlog::warn("http: accept failed: {}", ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](beast::error_code wait_ec) {
      if (!wait_ec && !stopping) Accept();
    });
    return;
  }
  if (sessions.size() >= static_cast<size_t>(options.max_connections)) {
    // Make room by closing the longest-open idle connection, else the longest-open one still
    // reading its request (slow or stalled clients: a request that arrives at once is read in
    // microseconds); all answering: refuse the new one.
    Session* victim = nullptr;
    for (Session* session : sessions) {
      if (session->phase() == Session::Phase::kIdle) {
        victim = session;
        break;
      }
      if (!victim && session->phase() == Session::Phase::kReading) victim = session;
    }
    if (victim) victim->Close();
  }
  if (sessions.size() < static_cast<size_t>(options.max_connections)) {
    std::make_shared<Session>(*this, std::move(socket))->Start();
  } else {
    spdlog::debug("http: {} connections busy, closing a new one", sessions.size());
    beast::error_code ignored;
    socket.close(ignored);
  }
  Accept();
}

void HttpServer::Impl::Stop() {
  stopping = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  while (!sessions.empty()) sessions.front()->Close();
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(ServiceCore& core,
                                                              const std::string& bind_address,
                                                              uint16_t port,
                                                              const Options& options) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("http: max_connections must be at least 1");
  }
  if (options.handler_threads < 1 || options.handler_threads > 256) {
    return absl::InvalidArgumentError("http: handler_threads must be in [1, 256]");
  }
  if (options.request_timeout.count() <= 0 || options.idle_timeout.count() <= 0) {
    return absl::InvalidArgumentError("http: request_timeout and idle_timeout must be positive");
  }
  auto impl = std::make_unique<Impl>();
  impl->core = &core;
  impl->options = options;
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
  impl->port = impl->acceptor.local_endpoint().port();
  impl->handlers.emplace(static_cast<size_t>(options.handler_threads));
  Impl* raw = impl.get();
  raw->Accept();
  raw->io_thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->port; }

HttpServer::~HttpServer() {
  // Close everything on the I/O thread; run() returns once no connection, timer or running
  // handler (each holds a work guard) is left.
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->Stop(); });
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
  impl_->handlers->join();
}

}  // namespace evolv
