// The client's side of HTTP/1.1, as much as talking to parley-media (or HAProxy
// in front of it) takes: one request per connection, bodies streamed from a
// source or into a sink, every wait bounded by the timeout. Plain HTTP only:
// blobs are end-to-end encrypted, and TLS, where wanted, ends at the load
// balancer (a client of its own would need a TLS library here).
//
// Responses must say their length (Content-Length) or end with the connection;
// chunked responses are refused, since parley-media never sends them.
#pragma once

#include "tools/client/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace parley::client {

/// Where the media service is: "http://HOST[:PORT][/PREFIX]".
struct http_endpoint {
  std::string host;
  uint16_t port = 80;
  std::string prefix;  // prepended to every path, without a trailing '/'
};

/// Nothing unless `url` is http:// with a host.
std::optional<http_endpoint> parse_http_url(const std::string& url);

struct http_response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names in lower case
  std::string body;  // error bodies and other small ones (the sink takes 2xx GETs)

  /// The value of header `name` (lower case), or "".
  std::string header(const std::string& name) const;
};

/// Produces a request body: fills `out` with up to `max` bytes, 0 at the end.
using body_source = std::function<outcome<size_t>(char* out, size_t max)>;

/// Takes a response body as it arrives, with the response's status and headers.
using body_sink =
  std::function<outcome<done>(const http_response& head, const char* data, size_t size)>;

class http_client {
public:
  http_client(http_endpoint endpoint, std::chrono::milliseconds timeout);

  /// A request without a body. For a 2xx answer to GET, the body goes to `sink`
  /// (if given); otherwise into the response (up to 64 KiB).
  outcome<http_response> request(const std::string& method, const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 const body_sink& sink = {});

  /// A request with a body of `length` bytes from `source`. It first asks the
  /// server whether to go on (Expect: 100-continue), so that a refusal (a bad
  /// token, too large) comes before a byte of the body.
  outcome<http_response> upload(const std::string& method, const std::string& path,
                                const std::vector<std::pair<std::string, std::string>>& headers,
                                uint64_t length, const body_source& source);

private:
  outcome<http_response> exchange(const std::string& method, const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  uint64_t length, const body_source* source,
                                  const body_sink* sink);

  http_endpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

} // namespace parley::client
