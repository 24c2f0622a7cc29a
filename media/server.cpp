// The only translation unit with Boost.Beast in parley-media (each one takes
// half a minute to compile).

#include "media/server.hpp"

#include "actors/log.hpp"
#include "media/ranges.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <csignal>
#include <ctime>
#include <fstream>
#include <optional>
#include <thread>
#include <unistd.h>
#include <vector>

namespace parley::media {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = beast::error_code;
using namespace std::chrono_literals;

/// Bytes moved between socket and disk at once, per connection.
constexpr size_t io_chunk = 256 * 1024;

/// Request headers larger than this are refused (a token names at most 64
/// recipients: about 2 KiB).
constexpr uint32_t header_limit = 16 * 1024;

int64_t unix_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i]))
        != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i] == '+' ? ' ' : s[i];
  }
  return out;
}

/// The value of `name` in a query string, decoded.
std::optional<std::string> query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return percent_decode(eq == std::string_view::npos ? std::string_view{}
                                                         : pair.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

/// A blob id in a URL: 64 lower-case hex digits.
std::optional<std::string> parse_media_id(std::string_view text) {
  if (text.size() != 64)
    return std::nullopt;
  for (char c : text)
    if (hex_value(c) < 0 || (c >= 'A' && c <= 'F'))
      return std::nullopt;
  return from_hex(text);
}

class server_impl;

// -- one connection ----------------------------------------------------------------

/// Serves the requests of one client connection, one at a time. Its handlers
/// run on the connection's strand; disk work that may take long is posted to
/// the server's pool and comes back to the strand.
class connection : public std::enable_shared_from_this<connection> {
public:
  connection(server_impl& server, tcp::socket socket);
  ~connection();

  void start() {
    net::dispatch(stream_.get_executor(),
                  [self = shared_from_this()] { self->read_header(); });
  }

private:
  /// One request, as far as handling it needs.
  struct request_state {
    http::verb method = http::verb::unknown;
    unsigned version = 11;
    bool keep_alive = true;
    bool body_pending = false;  // a body follows the header and was not read
    bool quiet = false;         // not logged (health checks, every second)
    std::string sha;            // 32 raw bytes
    token_claims claims;
    std::chrono::steady_clock::time_point started;
  };

  // -- reading requests --------------------------------------------------------------

  void read_header();
  void on_header(error_code ec);
  void handle();

  /// The token's claims, or nothing after answering 401/403.
  std::optional<token_claims> authorize(const http::request<http::empty_body>& req);

  // -- uploads ---------------------------------------------------------------------

  void handle_put(const http::request<http::empty_body>& req);
  void upload_ready(std::optional<store_failure> failure, bool expect_continue);
  void read_body();
  void on_body(error_code ec);
  void finish_upload();

  // -- downloads -------------------------------------------------------------------

  void handle_upload_head();
  void handle_download(const http::request<http::empty_body>& req);
  void send_chunk();
  void on_chunk_sent(error_code ec, size_t n);

  // -- answers ---------------------------------------------------------------------

  using string_response = http::response<http::string_body>;

  /// A response with a short text body; closes afterwards when the request's
  /// body was not read or the client asked to.
  string_response make(http::status status, std::string text);
  void send(string_response res, const std::string& note = {});
  void fail(http::status status, std::string text);
  void store_failed(const store_failure& f);

  /// After a complete answer: the next request, or the end.
  void next_request(bool keep_alive);
  void close();

  void log_request(int status, uint64_t bytes, const std::string& note = {});

  server_impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> header_parser_;
  std::optional<http::request_parser<http::buffer_body>> body_parser_;
  std::vector<char> chunk_;
  request_state req_;
  std::unique_ptr<blob_upload> upload_;
  uint64_t received_ = 0;  // body bytes of this request
  std::unique_ptr<blob_reader> reader_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> serializer_;
  uint64_t send_pos_ = 0;
  uint64_t send_end_ = 0;  // one past the last byte to send
  uint64_t sent_ = 0;
  int status_ = 0;  // of the answer under way, for the log
};

// -- the server ----------------------------------------------------------------------

class server_impl : public server {
public:
  server_impl(const server_settings& settings, token_key key,
              std::unique_ptr<blob_store> store)
    : settings_(settings),
      key_(std::move(key)),
      store_(std::move(store)),
      ioc_(static_cast<int>(settings.threads)),
      acceptor_(ioc_),
      signals_(ioc_, SIGINT, SIGTERM),
      sweeper_(ioc_),
      pool_(2) {
    // nop
  }

  ~server_impl() override {
    stop();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    pool_.join();
  }

  bool bind(std::string& error) {
    error_code ec;
    auto address = net::ip::make_address(settings_.host, ec);
    if (ec) {
      error = "not an IP address: " + settings_.host;
      return false;
    }
    tcp::endpoint ep{address, settings_.port};
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot listen on " + settings_.host + ":" + std::to_string(settings_.port)
              + ": " + ec.message();
      return false;
    }
    port_ = acceptor_.local_endpoint().port();
    return true;
  }

  uint16_t port() const noexcept override {
    return port_;
  }

  void run() override {
    signals_.async_wait([this](error_code ec, int) {
      if (!ec)
        stop();
    });
    accept();
    // Soon after start: a restart may have missed some.
    schedule_sweep(std::min<std::chrono::seconds>(5s, settings_.sweep_interval));
    log(log_level::info, "media: listening on ", settings_.host, ":", port_, ", blobs in ",
        settings_.blob_dir, ", max size ", settings_.max_size, " bytes");
    for (size_t i = 1; i < settings_.threads; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads_)
      t.join();
    threads_.clear();
    pool_.join();  // an upload being finished completes: whole or not at all
    log(log_level::info, "media: stopped");
  }

  void stop() override {
    if (stopping_.exchange(true))
      return;
    net::post(ioc_, [this] {
      error_code ec;
      acceptor_.close(ec);
      signals_.cancel(ec);
      sweeper_.cancel();
      ioc_.stop();  // closes every connection: their handlers never run again
    });
  }

  // -- for connections ---------------------------------------------------------------

  const server_settings& settings() const noexcept {
    return settings_;
  }

  const token_key& key() const noexcept {
    return key_;
  }

  blob_store& store() noexcept {
    return *store_;
  }

  /// Runs `work` on the disk pool, then `done` with its result on `strand`.
  template <class Executor, class Work, class Done>
  void offload(Executor strand, Work work, Done done) {
    net::post(pool_, [strand, work = std::move(work), done = std::move(done)]() mutable {
      auto result = work();
      net::post(strand, [done = std::move(done), result = std::move(result)]() mutable {
        done(std::move(result));
      });
    });
  }

  void connection_closed() {
    --connections_;
  }

private:
  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open())
        return;
      if (!ec) {
        if (connections_.load() >= settings_.max_connections) {
          error_code ignored;
          socket.close(ignored);  // at the limit: the client retries later
        } else {
          ++connections_;
          std::make_shared<connection>(*this, std::move(socket))->start();
        }
      }
      accept();
    });
  }

  void schedule_sweep(std::chrono::seconds after) {
    sweeper_.expires_after(after);
    sweeper_.async_wait([this](error_code ec) {
      if (ec)
        return;
      net::post(pool_, [this] {
        auto r = store_->sweep(unix_now(), settings_.retention.count(),
                               settings_.partial_retention.count());
        if (r.blobs > 0 || r.parts > 0)
          log(log_level::info, "media: retention deleted ", r.blobs, " blob(s) and ",
              r.parts, " unfinished upload(s)");
      });
      schedule_sweep(settings_.sweep_interval);
    });
  }

  server_settings settings_;
  token_key key_;
  std::unique_ptr<blob_store> store_;  // outlives the connections (ioc_)
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> connections_{0};
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer sweeper_;
  net::thread_pool pool_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
};

// -- connection: requests --------------------------------------------------------------

connection::connection(server_impl& server, tcp::socket socket)
  : server_(server), stream_(std::move(socket)) {
  error_code ec;
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

connection::~connection() {
  server_.connection_closed();
}

void connection::read_header() {
  header_parser_.emplace();
  header_parser_->header_limit(header_limit);
  // Content-Length over the limit fails the header read itself: 413 before a
  // byte of the body is read.
  header_parser_->body_limit(server_.settings().max_size);
  body_parser_.reset();
  upload_.reset();
  reader_.reset();
  req_ = request_state{};
  received_ = 0;
  sent_ = 0;
  stream_.expires_after(server_.settings().idle_timeout);
  http::async_read_header(stream_, buffer_, *header_parser_,
                          [self = shared_from_this()](error_code ec, size_t) {
                            self->on_header(ec);
                          });
}

void connection::on_header(error_code ec) {
  req_.started = std::chrono::steady_clock::now();
  if (ec == http::error::end_of_stream || ec == net::error::eof
      || ec == beast::error::timeout || ec == net::error::connection_reset
      || ec == net::error::operation_aborted)
    return close();
  if (ec == http::error::body_limit) {
    req_.body_pending = true;
    return fail(http::status::payload_too_large,
                "the blob is larger than this server's limit of "
                  + std::to_string(server_.settings().max_size) + " bytes");
  }
  if (ec == http::error::header_limit) {
    req_.body_pending = true;
    return fail(http::status::request_header_fields_too_large, "header too large");
  }
  if (ec) {
    req_.body_pending = true;
    return fail(http::status::bad_request, "malformed request: " + ec.message());
  }
  handle();
}

void connection::handle() {
  auto& req = header_parser_->get();
  req_.method = req.method();
  req_.version = req.version();
  req_.keep_alive = req.keep_alive();
  req_.body_pending = header_parser_->chunked()
                      || header_parser_->content_length().value_or(0) > 0;
  auto target = req.target();
  auto qmark = target.find('?');
  auto path = target.substr(0, qmark);
  if (path == "/health") {
    req_.quiet = true;
    if (req_.method != http::verb::get && req_.method != http::verb::head)
      return fail(http::status::method_not_allowed, "GET or HEAD");
    return send(make(http::status::ok, "ok"));
  }
  constexpr std::string_view prefix = "/media/";
  if (path.substr(0, prefix.size()) != prefix)
    return fail(http::status::not_found, "not found");
  auto sha = parse_media_id(path.substr(prefix.size()));
  if (!sha)
    return fail(http::status::bad_request,
                "a media id is the blob's SHA-256 in 64 lower-case hex digits");
  req_.sha = std::move(*sha);
  if (req_.method != http::verb::get && req_.method != http::verb::head
      && req_.method != http::verb::put) {
    auto res = make(http::status::method_not_allowed, "GET, HEAD or PUT");
    res.set(http::field::allow, "GET, HEAD, PUT");
    return send(std::move(res));
  }
  auto claims = authorize(req);
  if (!claims)
    return;
  req_.claims = std::move(*claims);
  switch (req_.method) {
    case http::verb::put:
      if (req_.claims.what != action::upload)
        return fail(http::status::forbidden, "this token is for downloading");
      return handle_put(req);
    case http::verb::head:
      if (req_.claims.what == action::upload)
        return handle_upload_head();
      return handle_download(req);
    default:
      if (req_.claims.what != action::download)
        return fail(http::status::forbidden, "this token is for uploading");
      return handle_download(req);
  }
}

std::optional<token_claims>
connection::authorize(const http::request<http::empty_body>& req) {
  std::string token;
  if (auto auth = req.find(http::field::authorization); auth != req.end()) {
    auto value = auth->value();
    constexpr std::string_view bearer = "Bearer ";
    if (value.size() > bearer.size() && iequals(value.substr(0, bearer.size()), bearer))
      token = std::string(value.substr(bearer.size()));
  }
  if (token.empty()) {
    auto target = req.target();
    if (auto q = target.find('?'); q != std::string_view::npos)
      token = query_param(target.substr(q + 1), "token").value_or("");
  }
  auto unauthorized = [this](const std::string& why, const char* error) {
    auto res = make(http::status::unauthorized, why);
    res.set(http::field::www_authenticate,
            std::string("Bearer realm=\"parley-media\"") + error);
    send(std::move(res));
  };
  if (token.empty()) {
    unauthorized("a token is required: ask your chat node for one", "");
    return std::nullopt;
  }
  auto checked = server_.key().verify(token, unix_now());
  if (auto err = std::get_if<token_error>(&checked)) {
    if (*err == token_error::forged)
      fail(http::status::forbidden, std::string(to_string(*err)));
    else
      unauthorized(std::string(to_string(*err)) + ": ask your chat node for a new one",
                   ", error=\"invalid_token\"");
    return std::nullopt;
  }
  auto& claims = std::get<token_claims>(checked);
  if (claims.sha256 != req_.sha) {
    fail(http::status::forbidden, "this token is for another blob");
    return std::nullopt;
  }
  return std::move(claims);
}

// -- connection: uploads ---------------------------------------------------------------

void connection::handle_put(const http::request<http::empty_body>& req) {
  auto& settings = server_.settings();
  auto total = req_.claims.size;
  if (total > settings.max_size)
    return fail(http::status::payload_too_large,
                "the blob is larger than this server's limit of "
                  + std::to_string(settings.max_size) + " bytes");
  auto length = header_parser_->content_length();
  if (!length || header_parser_->chunked())
    return fail(http::status::length_required, "an upload needs a Content-Length");
  uint64_t offset = 0;
  auto range_header = req[http::field::content_range];
  if (!range_header.empty()) {
    if (range_header == "bytes */" + std::to_string(total) && *length == 0) {
      // Commits a part that has every byte but was never finished.
      offset = total;
    } else {
      auto cr = parse_content_range(range_header);
      if (!cr)
        return fail(http::status::bad_request, "Content-Range must be bytes a-b/size");
      if (cr->total != total)
        return fail(http::status::forbidden, "this token is for a blob of another size");
      if (cr->range.length() != *length)
        return fail(http::status::bad_request,
                    "Content-Length does not match Content-Range");
      offset = cr->range.first;
    }
  } else if (*length != total) {
    return fail(http::status::forbidden, "this token is for a blob of another size");
  }
  auto& store = server_.store();
  if (store.size_of(req_.sha)) {
    // Content addressing: the same bytes are there already.
    if (auto f = store.add_recipients(req_.sha, req_.claims.recipients))
      return store_failed(*f);
    auto res = make(http::status::ok, "already stored");
    res.set("Upload-Offset", std::to_string(total));
    return send(std::move(res));
  }
  auto begun = store.begin_upload(req_.sha, offset, total);
  if (auto f = std::get_if<store_failure>(&begun))
    return store_failed(*f);
  upload_ = std::move(std::get<std::unique_ptr<blob_upload>>(begun));
  bool expect_continue = iequals(req[http::field::expect], "100-continue");
  if (offset == 0)
    return upload_ready(std::nullopt, expect_continue);
  // Reading back what a resumed upload has takes a while for a large part.
  blob_upload* up = upload_.get();
  server_.offload(
    stream_.get_executor(), [up] { return up->prepare(); },
    [self = shared_from_this(), expect_continue](std::optional<store_failure> f) {
      self->upload_ready(std::move(f), expect_continue);
    });
}

void connection::upload_ready(std::optional<store_failure> failure, bool expect_continue) {
  if (failure)
    return store_failed(*failure);
  if (!req_.body_pending)
    return finish_upload();
  body_parser_.emplace(std::move(*header_parser_));
  body_parser_->body_limit(boost::none);  // the length was checked
  chunk_.resize(io_chunk);
  buffer_.reserve(64 * 1024);  // reads of 64 KiB, not 512 bytes (see notes)
  if (!expect_continue)
    return read_body();
  auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_,
                                                                  req_.version);
  stream_.expires_after(server_.settings().idle_timeout);
  http::async_write(stream_, *cont, [self = shared_from_this(), cont](error_code ec, size_t) {
    if (ec)
      return self->close();
    self->read_body();
  });
}

void connection::read_body() {
  auto& body = body_parser_->get().body();
  body.data = chunk_.data();
  body.size = chunk_.size();
  stream_.expires_after(server_.settings().idle_timeout);
  http::async_read_some(stream_, buffer_, *body_parser_,
                        [self = shared_from_this()](error_code ec, size_t) {
                          self->on_body(ec);
                        });
}

void connection::on_body(error_code ec) {
  if (ec == http::error::need_buffer)
    ec = {};
  auto got = chunk_.size() - body_parser_->get().body().size;
  if (got > 0) {
    if (auto f = upload_->append(chunk_.data(), got)) {
      req_.body_pending = !body_parser_->is_done();
      return store_failed(*f);
    }
    received_ += got;
  }
  if (ec) {
    // Cut off: the part keeps what arrived; the client resumes from there.
    log(log_level::info, "media: upload of ", to_hex(req_.sha).substr(0, 16), " by ",
        req_.claims.user, " cut off at byte ", upload_->offset(), " of ",
        upload_->total(), " (", ec.message(), ")");
    return close();
  }
  if (!body_parser_->is_done())
    return read_body();
  req_.body_pending = false;
  if (upload_->offset() < upload_->total()) {
    // One piece of a resumable upload: more to come.
    auto offset = std::to_string(upload_->offset());
    auto res = make(http::status::no_content, "");
    res.set("Upload-Offset", offset);
    upload_.reset();
    return send(std::move(res), "stored up to byte " + offset);
  }
  finish_upload();
}

void connection::finish_upload() {
  if (upload_->offset() < upload_->total()) {
    auto res = make(http::status::no_content, "");
    res.set("Upload-Offset", std::to_string(upload_->offset()));
    upload_.reset();
    return send(std::move(res));
  }
  blob_meta meta;
  meta.created = unix_now();
  meta.uploader = req_.claims.user;
  meta.recipients = req_.claims.recipients;
  blob_upload* up = upload_.get();
  server_.offload(
    stream_.get_executor(), [up, meta] { return up->finish(meta); },
    [self = shared_from_this()](std::optional<store_failure> f) {
      auto total = self->upload_->total();
      self->upload_.reset();  // releases the blob's upload slot
      if (f)
        return self->store_failed(*f);
      auto res = self->make(http::status::created, "stored");
      res.set("Upload-Offset", std::to_string(total));
      res.set(http::field::location, "/media/" + to_hex(self->req_.sha));
      self->send(std::move(res), "complete: " + std::to_string(total) + " bytes");
    });
}

// -- connection: downloads ---------------------------------------------------------------

void connection::handle_upload_head() {
  auto res = make(http::status::ok, "");
  res.set("Upload-Offset", std::to_string(server_.store().stored_offset(req_.sha)));
  res.set("Upload-Length", std::to_string(req_.claims.size));
  send(std::move(res));
}

void connection::handle_download(const http::request<http::empty_body>& req) {
  reader_ = server_.store().open_blob(req_.sha);
  if (!reader_)
    return fail(http::status::not_found, "no such blob (never uploaded, or deleted)");
  auto size = reader_->size();
  auto range = parse_range(req[http::field::range], size);
  if (req[http::field::range].empty())
    range.what = range_request::kind::whole;
  if (range.what == range_request::kind::unsatisfiable) {
    auto res = make(http::status::range_not_satisfiable, "range not satisfiable");
    res.set(http::field::content_range, "bytes */" + std::to_string(size));
    return send(std::move(res));
  }
  auto status = http::status::ok;
  send_pos_ = 0;
  send_end_ = size;
  if (range.what == range_request::kind::partial) {
    status = http::status::partial_content;
    send_pos_ = range.range.first;
    send_end_ = range.range.last + 1;
  }
  head_.emplace(status, req_.version);
  head_->set(http::field::server, "parley-media");
  head_->set(http::field::content_type, "application/octet-stream");
  head_->set(http::field::accept_ranges, "bytes");
  head_->set(http::field::etag, "\"" + to_hex(req_.sha) + "\"");
  head_->set(http::field::cache_control, "private, max-age=31536000, immutable");
  if (status == http::status::partial_content)
    head_->set(http::field::content_range, "bytes " + std::to_string(send_pos_) + "-"
                                             + std::to_string(send_end_ - 1) + "/"
                                             + std::to_string(size));
  // Not prepare_payload(): with an empty body it would set the length to 0.
  head_->content_length(send_end_ - send_pos_);
  head_->keep_alive(req_.keep_alive && !req_.body_pending);
  status_ = static_cast<int>(status);
  serializer_.emplace(*head_);
  stream_.expires_after(server_.settings().idle_timeout);
  http::async_write_header(stream_, *serializer_,
                           [self = shared_from_this()](error_code ec, size_t) {
                             if (ec)
                               return self->close();
                             if (self->req_.method == http::verb::head) {
                               self->log_request(self->status_, 0);
                               return self->next_request(self->head_->keep_alive());
                             }
                             self->chunk_.resize(io_chunk);
                             self->send_chunk();
                           });
}

void connection::send_chunk() {
  if (send_pos_ >= send_end_) {
    log_request(status_, sent_);
    // The last byte went out: one recipient fewer to wait for.
    if (send_end_ == reader_->size()
        && server_.store().record_download(req_.sha, req_.claims.user))
      log(log_level::info, "media: ", to_hex(req_.sha).substr(0, 16),
          " deleted: every recipient downloaded it");
    return next_request(head_->keep_alive());
  }
  auto want = static_cast<size_t>(std::min<uint64_t>(chunk_.size(), send_end_ - send_pos_));
  ssize_t n;
  do {
    n = ::pread(reader_->fd(), chunk_.data(), want, static_cast<off_t>(send_pos_));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    log(log_level::error, "media: reading ", to_hex(req_.sha).substr(0, 16), " failed");
    return close();  // the header is out: all we can do is cut the response short
  }
  stream_.expires_after(server_.settings().idle_timeout);
  net::async_write(stream_, net::buffer(chunk_.data(), static_cast<size_t>(n)),
                   [self = shared_from_this()](error_code ec, size_t written) {
                     self->on_chunk_sent(ec, written);
                   });
}

void connection::on_chunk_sent(error_code ec, size_t n) {
  if (ec) {
    log_request(status_, sent_ + n, "cut off");
    return close();
  }
  send_pos_ += n;
  sent_ += n;
  send_chunk();
}

// -- connection: answers ---------------------------------------------------------------

connection::string_response connection::make(http::status status, std::string text) {
  string_response res{status, req_.version};
  res.set(http::field::server, "parley-media");
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = text.empty() ? std::string() : text + "\n";
  res.prepare_payload();
  // A body that was not read would be taken for the next request.
  res.keep_alive(req_.keep_alive && !req_.body_pending);
  status_ = static_cast<int>(status);
  return res;
}

void connection::send(string_response res, const std::string& note) {
  auto text = res.body().empty() ? std::string() : res.body().substr(0, res.body().size() - 1);
  log_request(static_cast<int>(res.result_int()), received_, note.empty() ? text : note);
  auto keep_alive = res.keep_alive();
  auto msg = std::make_shared<string_response>(std::move(res));
  stream_.expires_after(server_.settings().idle_timeout);
  http::async_write(stream_, *msg,
                    [self = shared_from_this(), msg, keep_alive](error_code ec, size_t) {
                      if (ec)
                        return self->close();
                      self->next_request(keep_alive);
                    });
}

void connection::fail(http::status status, std::string text) {
  send(make(status, std::move(text)));
}

void connection::store_failed(const store_failure& f) {
  upload_.reset();
  switch (f.what) {
    case store_error::busy: {
      auto res = make(http::status::conflict, f.message);
      res.set(http::field::retry_after, "1");
      return send(std::move(res));
    }
    case store_error::wrong_offset: {
      auto res = make(http::status::conflict, f.message);
      res.set("Upload-Offset", std::to_string(f.stored));
      return send(std::move(res));
    }
    case store_error::hash_mismatch:
      return fail(http::status::bad_request, f.message + "; nothing was kept");
    case store_error::incomplete:
      return fail(http::status::bad_request, f.message);
    case store_error::io:
      log(log_level::error, "media: ", to_hex(req_.sha).substr(0, 16), ": ", f.message);
      return fail(http::status::internal_server_error, "storage failed");
  }
}

void connection::next_request(bool keep_alive) {
  if (!keep_alive)
    return close();
  read_header();
}

void connection::close() {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream_.close();
}

void connection::log_request(int status, uint64_t bytes, const std::string& note) {
  if (req_.quiet)
    return;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - req_.started)
              .count();
  auto method = req_.method == http::verb::unknown ? std::string("-")
                                                   : std::string(http::to_string(req_.method));
  log(log_level::info, "media: ", method, " ",
      req_.sha.empty() ? std::string("-") : to_hex(req_.sha).substr(0, 16), " ",
      req_.claims.user.empty() ? std::string("-") : req_.claims.user, " ", status, " ",
      bytes, " bytes ", ms, " ms", note.empty() ? "" : " (" + note + ")");
}

} // namespace

// -- settings and creation ---------------------------------------------------------------

std::string server_settings::validate() const {
  if (key_file.empty())
    return "--key-file is required: the key shared with the chat nodes";
  if (max_size == 0)
    return "--max-size must be positive";
  if (threads == 0 || threads > 64)
    return "--threads must be 1 to 64";
  if (retention.count() <= 0 || partial_retention.count() <= 0
      || sweep_interval.count() <= 0 || idle_timeout.count() <= 0)
    return "durations must be positive";
  if (max_connections == 0)
    return "--max-connections must be positive";
  return {};
}

server::~server() = default;

std::unique_ptr<server> server::create(const server_settings& settings, token_key key,
                                       std::unique_ptr<blob_store> store,
                                       std::string& error) {
  auto s = std::make_unique<server_impl>(settings, std::move(key), std::move(store));
  if (!s->bind(error))
    return nullptr;
  return s;
}

} // namespace parley::media
