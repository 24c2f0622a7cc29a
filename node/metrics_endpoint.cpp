#include "node/metrics_endpoint.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

constexpr size_t max_request = 8192;

std::string http_response(int status, const char* reason, const std::string& type,
                          const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason
         + "\r\nContent-Type: " + type + "\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

class metrics_endpoint_state {
public:
  static inline const char* name = "metrics-endpoint";

  explicit metrics_endpoint_state(caf::io::broker* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::io::doorman_ptr doorman, node_metrics* metrics) {
    metrics_ = metrics;
    self_->add_doorman(std::move(doorman));
    return {
      [this](const caf::io::new_connection_msg& msg) {
        self_->configure_read(msg.handle, caf::io::receive_policy::at_most(1024));
        requests_.emplace(msg.handle, std::string{});
      },
      [this](const caf::io::new_data_msg& msg) { on_data(msg); },
      [this](const caf::io::connection_closed_msg& msg) { requests_.erase(msg.handle); },
      [](const caf::io::acceptor_closed_msg&) {
        // nop
      },
    };
  }

private:
  void on_data(const caf::io::new_data_msg& msg) {
    auto i = requests_.find(msg.handle);
    if (i == requests_.end())
      return;
    auto& request = i->second;
    request.append(msg.buf.begin(), msg.buf.end());
    if (request.find("\r\n\r\n") == std::string::npos) {
      if (request.size() > max_request)
        answer(msg.handle, http_response(431, "Request Header Fields Too Large",
                                         "text/plain", "too large\n"));
      return;
    }
    bool metrics = request.rfind("GET /metrics ", 0) == 0
                   || request.rfind("GET /metrics?", 0) == 0;
    if (metrics)
      answer(msg.handle, http_response(200, "OK", "text/plain; version=0.0.4",
                                       metrics_->render()));
    else
      answer(msg.handle, http_response(404, "Not Found", "text/plain",
                                       "only /metrics here\n"));
  }

  void answer(caf::io::connection_handle hdl, const std::string& response) {
    auto& buf = self_->wr_buf(hdl);
    buf.insert(buf.end(), response.begin(), response.end());
    self_->flush(hdl);
    self_->close(hdl);  // after the pending bytes are out
    requests_.erase(hdl);
  }

  caf::io::broker* self_;
  node_metrics* metrics_ = nullptr;
  std::unordered_map<caf::io::connection_handle, std::string> requests_;
};

using endpoint_broker = caf::io::stateful_broker<metrics_endpoint_state>;

caf::behavior endpoint_impl(endpoint_broker* self, caf::io::doorman_ptr doorman,
                            node_metrics* metrics) {
  return self->state.make_behavior(std::move(doorman), metrics);
}

} // namespace

caf::expected<endpoint_handle> spawn_metrics_endpoint(caf::actor_system& sys,
                                                      const std::string& host,
                                                      uint16_t port,
                                                      node_metrics& metrics) {
  auto& mm = sys.middleman();
  auto doorman = mm.backend().new_tcp_doorman(port, host.c_str(), true);
  if (!doorman)
    return std::move(doorman.error());
  auto bound = (*doorman)->port();
  auto actor = mm.spawn_broker(endpoint_impl, std::move(*doorman), &metrics);
  return endpoint_handle{actor, bound};
}

} // namespace parley
