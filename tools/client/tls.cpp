#include "tools/client/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <cerrno>
#include <poll.h>

namespace parley::client {

struct tls_channel::impl {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;

  ~impl() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    if (ctx != nullptr)
      SSL_CTX_free(ctx);
  }
};

namespace {

std::string last_ssl_error(const char* what) {
  auto code = ERR_get_error();
  char buf[256] = "unknown error";
  if (code != 0)
    ERR_error_string_n(code, buf, sizeof(buf));
  return std::string(what) + ": " + buf;
}

/// Waits until the socket is ready for what OpenSSL asked for.
bool wait_for(int fd, int ssl_error, std::chrono::milliseconds timeout) {
  pollfd p{fd, static_cast<short>(ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN),
           0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

} // namespace

tls_channel::tls_channel(std::unique_ptr<impl> x) : impl_(std::move(x)) {
  // nop
}

tls_channel::~tls_channel() = default;

std::unique_ptr<tls_channel> tls_channel::open(int fd, const std::string& host,
                                               const std::string& ca_file,
                                               std::chrono::milliseconds timeout,
                                               std::string& error) {
  auto x = std::make_unique<impl>();
  x->ctx = SSL_CTX_new(TLS_client_method());
  if (x->ctx == nullptr) {
    error = last_ssl_error("TLS context");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(x->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(x->ctx, SSL_VERIFY_PEER, nullptr);
  bool roots = ca_file.empty() ? SSL_CTX_set_default_verify_paths(x->ctx) == 1
                               : SSL_CTX_load_verify_locations(x->ctx, ca_file.c_str(),
                                                               nullptr)
                                   == 1;
  if (!roots) {
    error = last_ssl_error(ca_file.empty() ? "trusted roots" : "CA file");
    return nullptr;
  }
  x->ssl = SSL_new(x->ctx);
  SSL_set_fd(x->ssl, fd);
  // The certificate must name what was dialled: an IP address or a host name.
  in6_addr ip6;
  in_addr ip4;
  bool is_ip = inet_pton(AF_INET, host.c_str(), &ip4) == 1
               || inet_pton(AF_INET6, host.c_str(), &ip6) == 1;
  auto param = SSL_get0_param(x->ssl);
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    SSL_set_tlsext_host_name(x->ssl, host.c_str());
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  }
  for (;;) {
    auto rc = SSL_connect(x->ssl);
    if (rc == 1)
      break;
    auto err = SSL_get_error(x->ssl, rc);
    if ((err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        && wait_for(fd, err, timeout))
      continue;
    auto verdict = SSL_get_verify_result(x->ssl);
    error = verdict != X509_V_OK
              ? std::string("certificate rejected: ")
                  + X509_verify_cert_error_string(verdict)
              : last_ssl_error("TLS handshake");
    return nullptr;
  }
  return std::unique_ptr<tls_channel>(new tls_channel(std::move(x)));
}

ssize_t tls_channel::read(char* buf, size_t size) {
  auto n = SSL_read(impl_->ssl, buf, static_cast<int>(size));
  if (n > 0)
    return n;
  switch (SSL_get_error(impl_->ssl, n)) {
    case SSL_ERROR_ZERO_RETURN:
      return 0;
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_SYSCALL:
      if (errno == 0)
        return 0;  // the peer closed without a TLS goodbye
      return -1;
    default:
      errno = EPROTO;
      return -1;
  }
}

ssize_t tls_channel::write(const char* buf, size_t size) {
  auto n = SSL_write(impl_->ssl, buf, static_cast<int>(size));
  if (n > 0)
    return n;
  auto err = SSL_get_error(impl_->ssl, n);
  errno = err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ ? EAGAIN : EPIPE;
  return -1;
}

bool tls_channel::pending() const {
  return SSL_pending(impl_->ssl) > 0;
}

} // namespace parley::client
