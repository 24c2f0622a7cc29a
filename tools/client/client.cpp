#include "tools/client/client.hpp"

#include "schema/bytes.hpp"
#include "schema/errors.hpp"
#include "schema/frame.hpp"
#include "schema/rules.hpp"
#include "tools/client/tls.hpp"

#include <capnp/message.h>

#include <algorithm>
#include <unordered_set>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::client {

namespace {

failure transport(std::string message) {
  return failure{failure::kind::transport, wire::ErrorCode::INTERNAL,
                 std::move(message)};
}

failure from_server(const server_error& err) {
  return failure{failure::kind::server, err.code, err.message, err.retry_after_ms};
}

} // namespace

std::string failure::describe() const {
  switch (what) {
    case kind::server:
      return std::string(parley::to_string(code)) + ": " + message;
    case kind::timeout:
      return "timeout: " + message;
    case kind::protocol:
      return "protocol error: " + message;
    case kind::local:
      return message;
    default:
      return "connection: " + message;
  }
}

connection::connection(options opts) : opts_(std::move(opts)) {
  // nop
}

connection::~connection() {
  close();
}

bool connection::has_buffered_input() const {
  return tls_ && tls_->pending();
}

namespace {

/// Connects `fd` to `addr` within `timeout`; returns 0 or an errno value.
int connect_within(int fd, const sockaddr* addr, socklen_t len,
                   std::chrono::milliseconds timeout) {
  // Non-blocking for the handshake only: a black-holed address must not hold
  // the caller for the kernel's two minutes.
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, addr, len);
  int err = rc == 0 ? 0 : errno;
  if (err == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    auto ready = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(1, timeout.count())));
    if (ready == 0) {
      err = ETIMEDOUT;
    } else if (ready < 0) {
      err = errno;
    } else {
      socklen_t size = sizeof(err);
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size) != 0)
        err = errno;
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  return err;
}

} // namespace

outcome<done> connection::connect() {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(opts_.port);
  if (auto rc = ::getaddrinfo(opts_.host.c_str(), port.c_str(), &hints, &found);
      rc != 0)
    return transport(opts_.host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  for (auto* ai = found; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    if (opts_.receive_buffer > 0)
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &opts_.receive_buffer,
                   sizeof(opts_.receive_buffer));
    if (auto err = connect_within(fd, ai->ai_addr, ai->ai_addrlen, opts_.timeout);
        err == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      // A node that stops reading must not block a write for ever: the write
      // fails after the call timeout and the connection closes.
      timeval tv{};
      tv.tv_sec = static_cast<time_t>(opts_.timeout.count() / 1000);
      tv.tv_usec = static_cast<suseconds_t>((opts_.timeout.count() % 1000) * 1000);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      fd_ = fd;
      break;
    } else {
      last_error = std::strerror(err);
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  if (fd_ < 0)
    return transport("cannot connect to " + opts_.host + ":" + port + ": "
                     + last_error);
  if (opts_.tls) {
    std::string error;
    tls_ = tls_channel::open(fd_, opts_.host, opts_.ca_file, opts_.timeout, error);
    if (!tls_) {
      close();
      return transport("TLS to " + opts_.host + ":" + port + ": " + error);
    }
  }
  reader_ = std::make_unique<frame_reader>(opts_.max_frame);
  queue_.clear();
  heartbeat_every_ = std::chrono::milliseconds{0};
  last_write_ = clock::now();
  last_read_ = last_write_;
  heartbeats_sent_ = 0;
  pongs_received_ = 0;
  return done{};
}

void connection::close() {
  tls_.reset();
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// -- writing ----------------------------------------------------------------------

outcome<done> connection::write_raw(const std::string& bytes) {
  if (fd_ < 0)
    return transport("not connected");
  size_t off = 0;
  while (off < bytes.size()) {
    auto n = tls_ ? tls_->write(bytes.data() + off, bytes.size() - off)
                  : ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      auto why = errno == EAGAIN || errno == EWOULDBLOCK
                   ? std::string("write timed out: the node does not read")
                   : std::string("write failed: ") + std::strerror(errno);
      close();
      return transport(why);
    }
    off += static_cast<size_t>(n);
  }
  last_write_ = clock::now();
  return done{};
}

template <class F>
outcome<done> connection::write_frame(F fill) {
  capnp::MallocMessageBuilder message;
  fill(message.initRoot<wire::ClientFrame>());
  std::vector<char> out;
  append_frame(message, out);
  return write_raw(std::string(out.begin(), out.end()));
}

outcome<done> connection::post(const std::string& to, const std::string& id,
                               const std::string& payload) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto s = f.initSend();
    s.setId(as_data(id));
    s.setTo(to);
    s.setPayload(as_data(payload));
  });
}

outcome<done> connection::ack(const std::string& peer,
                              const std::vector<std::string>& ids,
                              wire::AckState state) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto a = f.initAck();
    a.setPeer(peer);
    a.setState(state);
    auto list = a.initIds(static_cast<unsigned>(ids.size()));
    for (unsigned i = 0; i < ids.size(); ++i)
      list.set(i, as_data(ids[i]));
  });
}

outcome<done> connection::ack_receipts(const std::vector<uint64_t>& seqs) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto list = f.initAckReceipts().initSeqs(static_cast<unsigned>(seqs.size()));
    for (unsigned i = 0; i < seqs.size(); ++i)
      list.set(i, seqs[i]);
  });
}

outcome<done> connection::post_group(const std::string& group, const std::string& id,
                                     uint64_t epoch, const std::string& payload) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto s = f.initGroupSend();
    s.setId(as_data(id));
    s.setGroup(as_data(group));
    s.setEpoch(epoch);
    s.setPayload(as_data(payload));
  });
}

outcome<done> connection::call(const std::string& call, const std::string& peer,
                               wire::CallSignalKind kind, const std::string& payload) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto c = f.initCall();
    c.setCall(as_data(call));
    c.setPeer(peer);
    c.setKind(kind);
    c.setPayload(as_data(payload));
  });
}

outcome<done> connection::heartbeat() {
  auto ok = write_frame([](wire::ClientFrame::Builder f) { f.setHeartbeat(); });
  if (ok)
    ++heartbeats_sent_;
  return ok;
}

outcome<done> connection::watch(const std::vector<std::string>& users) {
  return write_frame([&](wire::ClientFrame::Builder f) {
    auto list = f.initWatch().initUsers(static_cast<unsigned>(users.size()));
    for (unsigned i = 0; i < users.size(); ++i)
      list.set(i, users[i]);
  });
}

outcome<done> connection::logout() {
  return write_frame([](wire::ClientFrame::Builder f) { f.setLogout(); });
}

outcome<done> connection::keep_alive() {
  if (heartbeat_every_.count() > 0 && clock::now() - last_write_ >= heartbeat_every_)
    return heartbeat();
  return done{};
}

// -- reading ----------------------------------------------------------------------

outcome<bool> connection::pump(clock::time_point deadline) {
  if (fd_ < 0)
    return transport("not connected");
  bool queued = false;
  for (;;) {
    while (auto words = reader_->next()) {
      try {
        capnp::FlatArrayMessageReader frame(*words, reader_options(words->size()));
        auto f = frame.getRoot<wire::ServerFrame>();
        switch (f.which()) {
          case wire::ServerFrame::CHALLENGE:
            queue_.emplace_back(challenge{to_string(f.getChallenge().getNonce())});
            break;
          case wire::ServerFrame::WELCOME: {
            auto w = f.getWelcome();
            queue_.emplace_back(welcome_info{to_string(w.getUser()), w.getServerTime(),
                                             w.getHeartbeatSeconds(), w.getMaxPayload(),
                                             w.getMaxPendingSends()});
            break;
          }
          case wire::ServerFrame::REGISTERED:
            queue_.emplace_back(registered{to_string(f.getRegistered().getUser())});
            break;
          case wire::ServerFrame::DELIVER: {
            auto d = f.getDeliver();
            queue_.emplace_back(message{d.getSeq(), to_string(d.getFrom()),
                                        to_string(d.getId()), to_string(d.getPayload()),
                                        d.getServerTime(), to_string(d.getGroup())});
            break;
          }
          case wire::ServerFrame::RECEIPT: {
            // One event per message; a receipt for several shares its seq.
            auto r = f.getReceipt();
            receipt tick{r.getSeq(), to_string(r.getId()), to_string(r.getPeer()),
                         r.getState(), r.getTime(), to_string(r.getGroup())};
            queue_.emplace_back(tick);
            for (auto id : r.getMoreIds()) {
              tick.id = to_string(id);
              queue_.emplace_back(tick);
            }
            break;
          }
          case wire::ServerFrame::GROUP: {
            auto g = f.getGroup();
            group_info info{to_string(g.getGroup()), to_string(g.getName()),
                            g.getEpoch(), {}};
            for (auto m : g.getMembers())
              info.members.push_back({to_string(m.getUser()), m.getAdmin()});
            queue_.emplace_back(std::move(info));
            break;
          }
          case wire::ServerFrame::GROUP_NOTICE: {
            auto n = f.getGroupNotice();
            group_notice x{n.getSeq(),  to_string(n.getGroup()), to_string(n.getName()),
                           n.getEpoch(), to_string(n.getBy()),   n.getAction(),
                           {},           n.getTime()};
            for (auto m : n.getMembers())
              x.members.push_back(to_string(m));
            queue_.emplace_back(std::move(x));
            break;
          }
          case wire::ServerFrame::MESSAGE_INFO: {
            auto m = f.getMessageInfo();
            message_info x{to_string(m.getGroup()), to_string(m.getId()), m.getTime(), {}};
            for (auto r : m.getRecipients())
              x.recipients.push_back({to_string(r.getUser()), r.getState(), r.getTime()});
            queue_.emplace_back(std::move(x));
            break;
          }
          case wire::ServerFrame::CALL: {
            auto c = f.getCall();
            queue_.emplace_back(call_event{to_string(c.getCall()), to_string(c.getPeer()),
                                           c.getKind(), to_string(c.getPayload())});
            break;
          }
          case wire::ServerFrame::TURN_CREDENTIALS: {
            auto t = f.getTurnCredentials();
            turn_info x{to_string(t.getUsername()), to_string(t.getPassword()),
                        t.getTtlSeconds(), {}};
            for (auto u : t.getUris())
              x.uris.push_back(to_string(u));
            queue_.emplace_back(std::move(x));
            break;
          }
          case wire::ServerFrame::PRESENCE: {
            auto p = f.getPresence();
            queue_.emplace_back(
              presence{to_string(p.getUser()), p.getOnline(), p.getLastSeen()});
            break;
          }
          case wire::ServerFrame::ERROR: {
            auto e = f.getError();
            queue_.emplace_back(server_error{e.getCode(), to_string(e.getMessage()),
                                             to_string(e.getRefersTo()),
                                             e.getRetryAfterMs()});
            break;
          }
          case wire::ServerFrame::PONG:
            ++pongs_received_;
            queue_.emplace_back(pong{});
            break;
          case wire::ServerFrame::MEDIA_TOKEN: {
            auto m = f.getMediaToken();
            queue_.emplace_back(media_grant{m.getAction(), to_string(m.getSha256()),
                                            to_string(m.getToken()), m.getExpires(),
                                            to_string(m.getUrl())});
            break;
          }
          case wire::ServerFrame::KEYS_PUBLISHED:
            queue_.emplace_back(keys_published_frame{
              {f.getKeysPublished().getOneTimePrekeys(),
               f.getKeysPublished().getHasSignedPrekey()}});
            break;
          case wire::ServerFrame::PREKEYS_LOW:
            queue_.emplace_back(prekeys_low{f.getPrekeysLow().getOneTimePrekeys()});
            break;
          case wire::ServerFrame::BUNDLE: {
            auto b = f.getBundle();
            queue_.emplace_back(bundle_info{to_string(b.getUser()),
                                            to_string(b.getIdentityKey()),
                                            to_string(b.getSignedPrekey()),
                                            to_string(b.getOneTimePrekey())});
            break;
          }
          default:
            break;  // a newer node's frame: skip it
        }
        queued = true;
      } catch (const kj::Exception& e) {
        close();
        return failure{failure::kind::protocol, wire::ErrorCode::INTERNAL,
                       "undecodable frame from the node"};
      }
    }
    if (reader_->error() != frame_error::none) {
      close();
      return failure{failure::kind::protocol, wire::ErrorCode::INTERNAL,
                     "bad frame header from the node"};
    }
    if (queued)
      return true;
    if (auto ok = keep_alive(); !ok)
      return ok.error();
    // Past the deadline, still take what the socket holds already (a zero
    // wait means "what has arrived", not "nothing").
    auto now = clock::now();
    int wait_ms = 0;
    if (now < deadline) {
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
      if (heartbeat_every_.count() > 0)
        wait = std::min(wait, heartbeat_every_);
      wait_ms = static_cast<int>(std::max<int64_t>(1, wait.count()));
    }
    pollfd p{fd_, POLLIN, 0};
    // Bytes TLS already decrypted are invisible to poll.
    auto rc = tls_ && tls_->pending() ? 1 : ::poll(&p, 1, wait_ms);
    if (rc < 0 && errno != EINTR) {
      close();
      return transport(std::string("poll failed: ") + std::strerror(errno));
    }
    if (rc <= 0) {
      if (now >= deadline)
        return false;
      continue;
    }
    char buf[64 * 1024];
    auto n = tls_ ? tls_->read(buf, sizeof(buf)) : ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) {
      close();
      return transport("the node closed the connection");
    }
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN)
        continue;
      auto why = std::string("read failed: ") + std::strerror(errno);
      close();
      return transport(why);
    }
    last_read_ = clock::now();
    reader_->feed(buf, static_cast<size_t>(n));
  }
}

template <class Match>
outcome<connection::incoming> connection::wait_for(Match match) {
  auto deadline = clock::now() + opts_.timeout;
  size_t scanned = 0;
  for (;;) {
    for (auto i = queue_.begin() + static_cast<ptrdiff_t>(scanned); i != queue_.end();
         ++i) {
      if (match(*i)) {
        auto found = std::move(*i);
        queue_.erase(i);
        return found;
      }
    }
    scanned = queue_.size();
    auto more = pump(deadline);
    if (!more) {
      // Say why the node hung up, if it did.
      for (auto& x : queue_)
        if (auto err = std::get_if<server_error>(&x))
          return from_server(*err);
      return more.error();
    }
    if (!*more)
      return failure{failure::kind::timeout, wire::ErrorCode::INTERNAL,
                     "no answer from the node"};
  }
}

outcome<std::optional<event>> connection::next_event(std::chrono::milliseconds wait) {
  auto deadline = clock::now() + wait;
  for (;;) {
    while (!queue_.empty()) {
      auto x = std::move(queue_.front());
      queue_.pop_front();
      if (auto m = std::get_if<message>(&x))
        return std::optional<event>{std::move(*m)};
      if (auto r = std::get_if<receipt>(&x))
        return std::optional<event>{std::move(*r)};
      if (auto p = std::get_if<presence>(&x))
        return std::optional<event>{std::move(*p)};
      if (auto e = std::get_if<server_error>(&x))
        return std::optional<event>{std::move(*e)};
      if (auto low = std::get_if<prekeys_low>(&x))
        return std::optional<event>{*low};
      if (auto n = std::get_if<group_notice>(&x))
        return std::optional<event>{std::move(*n)};
      if (auto c = std::get_if<call_event>(&x))
        return std::optional<event>{std::move(*c)};
      // pongs and late control frames carry nothing for the caller
    }
    if (fd_ < 0)
      return transport("not connected");
    auto more = pump(deadline);
    if (!more)
      return more.error();
    if (!*more)
      return std::optional<event>{};
  }
}

// -- requests with answers --------------------------------------------------------

template <class T, class Mine>
outcome<T> connection::answer(const std::string& refers_to, Mine mine) {
  auto found = wait_for([&](const incoming& x) {
    if (auto a = std::get_if<T>(&x))
      return mine(*a);
    if (auto e = std::get_if<server_error>(&x))
      return e->refers_to.empty() || e->refers_to == refers_to;
    return false;
  });
  if (!found)
    return found.error();
  if (auto err = std::get_if<server_error>(&*found))
    return from_server(*err);
  return std::get<T>(std::move(*found));
}

outcome<receipt> connection::sent_tick(const std::string& id) {
  return answer<receipt>(
    id, [&](const receipt& r) { return r.id == id && r.state == wire::ReceiptState::SENT; });
}

outcome<done> connection::register_user(const std::string& user, const identity& id) {
  auto sent = write_frame([&](wire::ClientFrame::Builder f) {
    auto r = f.initRegister();
    r.setUser(user);
    r.setIdentityKey(as_data(id.public_key()));
  });
  if (!sent)
    return sent;
  auto got = answer<registered>({}, any_answer);
  if (!got)
    return got.error();
  return done{};
}

outcome<welcome_info> connection::login(const std::string& user, const identity& id) {
  auto sent = write_frame(
    [&](wire::ClientFrame::Builder f) { f.initLogin().setUser(user); });
  if (!sent)
    return sent.error();
  auto nonce = answer<challenge>({}, any_answer);
  if (!nonce)
    return nonce.error();
  auto proof = id.sign(login_proof_message(nonce->nonce));
  sent = write_frame(
    [&](wire::ClientFrame::Builder f) { f.initProve().setSignature(as_data(proof)); });
  if (!sent)
    return sent.error();
  auto info = answer<welcome_info>({}, any_answer);
  if (!info)
    return info.error();
  heartbeat_every_ = std::chrono::seconds(std::max<uint32_t>(1, info->heartbeat_seconds));
  return info;
}

outcome<receipt> connection::send(const std::string& to, const std::string& id,
                                  const std::string& payload) {
  auto sent = post(to, id, payload);
  if (!sent)
    return sent.error();
  return sent_tick(id);
}

outcome<presence> connection::last_seen(const std::string& user) {
  auto sent = write_frame(
    [&](wire::ClientFrame::Builder f) { f.initLastSeen().setUser(user); });
  if (!sent)
    return sent.error();
  return answer<presence>({}, [&](const presence& a) { return a.user == user; });
}

outcome<media_grant> connection::media_token(wire::MediaAction action,
                                             const std::string& sha256, uint64_t size,
                                             const std::vector<std::string>& recipients) {
  auto sent = write_frame([&](wire::ClientFrame::Builder f) {
    auto m = f.initMediaToken();
    m.setAction(action);
    m.setSha256(as_data(sha256));
    m.setSize(size);
    auto list = m.initRecipients(static_cast<unsigned>(recipients.size()));
    for (unsigned i = 0; i < recipients.size(); ++i)
      list.set(i, recipients[i]);
  });
  if (!sent)
    return sent.error();
  return answer<media_grant>(sha256, [&](const media_grant& a) {
    return a.sha256 == sha256 && a.action == action;
  });
}

} // namespace parley::client

namespace parley::client {

outcome<keys_published> connection::publish_keys(const std::string& signed_prekey,
                                           const std::vector<std::string>& one_time) {
  auto sent = write_frame([&](wire::ClientFrame::Builder f) {
    auto p = f.initPublishKeys();
    p.setSignedPrekey(as_data(signed_prekey));
    auto list = p.initOneTimePrekeys(static_cast<unsigned>(one_time.size()));
    for (unsigned i = 0; i < one_time.size(); ++i)
      list.set(i, as_data(one_time[i]));
  });
  if (!sent)
    return sent.error();
  auto got = answer<keys_published_frame>({}, any_answer);
  if (!got)
    return got.error();
  return std::move(*got).info;
}

outcome<bundle_info> connection::fetch_bundle(const std::string& user) {
  auto sent = write_frame(
    [&](wire::ClientFrame::Builder f) { f.initFetchBundle().setUser(user); });
  if (!sent)
    return sent.error();
  return answer<bundle_info>({}, [&](const bundle_info& a) { return a.user == user; });
}

} // namespace parley::client

namespace parley::client {

bool group_info::has(const std::string& user) const {
  return std::any_of(members.begin(), members.end(),
                     [&](const member& m) { return m.user == user; });
}

template <class F>
outcome<group_info> connection::group_request(const std::string& group, F fill) {
  auto sent = write_frame([&](wire::ClientFrame::Builder f) {
    auto g = f.initGroup();
    g.setGroup(as_data(group));
    fill(g);
  });
  if (!sent)
    return sent.error();
  return answer<group_info>(group, [&](const group_info& a) { return a.group == group; });
}

namespace {

void set_names(capnp::List<capnp::Text>::Builder list,
               const std::vector<std::string>& names) {
  for (unsigned i = 0; i < names.size(); ++i)
    list.set(i, names[i]);
}

} // namespace

outcome<group_info> connection::create_group(const std::string& group,
                                             const std::string& name,
                                             const std::vector<std::string>& members) {
  return group_request(group, [&](wire::GroupRequest::Builder g) {
    auto c = g.initCreate();
    c.setName(name);
    set_names(c.initMembers(static_cast<unsigned>(members.size())), members);
  });
}

outcome<group_info> connection::add_members(const std::string& group,
                                            const std::vector<std::string>& members) {
  return group_request(group, [&](wire::GroupRequest::Builder g) {
    set_names(g.initAdd(static_cast<unsigned>(members.size())), members);
  });
}

outcome<group_info> connection::remove_members(const std::string& group,
                                               const std::vector<std::string>& members) {
  return group_request(group, [&](wire::GroupRequest::Builder g) {
    set_names(g.initRemove(static_cast<unsigned>(members.size())), members);
  });
}

outcome<group_info> connection::promote(const std::string& group,
                                        const std::vector<std::string>& members) {
  return group_request(group, [&](wire::GroupRequest::Builder g) {
    set_names(g.initPromote(static_cast<unsigned>(members.size())), members);
  });
}

outcome<group_info> connection::leave_group(const std::string& group) {
  return group_request(group, [](wire::GroupRequest::Builder g) { g.setLeave(); });
}

outcome<group_info> connection::query_group(const std::string& group) {
  return group_request(group, [](wire::GroupRequest::Builder g) { g.setQuery(); });
}

outcome<receipt> connection::send_group(const std::string& group, const std::string& id,
                                        uint64_t epoch, const std::string& payload) {
  auto sent = post_group(group, id, epoch, payload);
  if (!sent)
    return sent.error();
  return sent_tick(id);
}

outcome<message_info> connection::message_info_of(const std::string& group,
                                                  const std::string& id) {
  auto sent = write_frame([&](wire::ClientFrame::Builder f) {
    auto m = f.initMessageInfo();
    m.setGroup(as_data(group));
    m.setId(as_data(id));
  });
  if (!sent)
    return sent.error();
  return answer<message_info>(id, [&](const message_info& a) { return a.id == id; });
}

outcome<turn_info> connection::turn_credentials() {
  auto sent = write_frame([](wire::ClientFrame::Builder f) { f.setTurnCredentials(); });
  if (!sent)
    return sent.error();
  return answer<turn_info>({}, any_answer);
}

outcome<done> connection::send_many(const std::vector<outgoing>& messages, size_t window) {
  window = std::max<size_t>(1, window);
  size_t posted = 0;
  std::unordered_set<std::string> waiting;  // ids posted without their tick yet
  while (posted < messages.size() || !waiting.empty()) {
    while (posted < messages.size() && waiting.size() < window) {
      auto& m = messages[posted++];
      if (auto ok = post(m.to, m.id, m.payload); !ok)
        return ok;
      waiting.insert(m.id);
    }
    // Sends to one node are answered in order, but not across nodes: take
    // whichever tick of the ones in flight comes.
    auto answer = wait_for([&](const incoming& x) {
      if (auto r = std::get_if<receipt>(&x))
        return r->state == wire::ReceiptState::SENT && waiting.count(r->id) > 0;
      if (auto e = std::get_if<server_error>(&x))
        return e->refers_to.empty() || waiting.count(e->refers_to) > 0;
      return false;
    });
    if (!answer)
      return answer.error();
    if (auto err = std::get_if<server_error>(&*answer))
      return from_server(*err);
    waiting.erase(std::get<receipt>(*answer).id);
  }
  return done{};
}

} // namespace parley::client
