#include "node/node.hpp"

#include "actors/admin/admin.hpp"
#include "actors/auth/throttle.hpp"
#include "actors/auth/verifier.hpp"
#include "actors/call/call.hpp"
#include "actors/call/turn.hpp"
#include "actors/group/directory.hpp"
#include "actors/cluster/membership.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/log.hpp"
#include "actors/presence/presence.hpp"
#include "actors/registry/registry.hpp"
#include "actors/store/store.hpp"
#include "actors/thread_slice.hpp"
#include "node/admin_port.hpp"
#include "node/listener.hpp"
#include "node/metrics_endpoint.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <caf/all.hpp>
#include <caf/io/middleman.hpp>

#include <fstream>
#include <sstream>
#include <thread>

namespace parley {

namespace {

/// The cluster part of the settings, checked; or why it is wrong.
caf::expected<cluster_config> cluster_from(const node_settings& settings) {
  cluster_config config;
  config.self = settings.cluster_name;
  for (auto& text : settings.cluster_members) {
    auto member = parse_member(text);
    if (!member)
      return std::move(member.error());
    config.members.push_back(std::move(*member));
  }
  if (config.members.empty())
    return config;
  if (settings.cluster_secret_file.empty())
    return caf::make_error(caf::sec::invalid_argument,
                           "cluster.members needs cluster.secret-file");
  std::ifstream in(settings.cluster_secret_file);
  std::stringstream text;
  text << in.rdbuf();
  config.secret = text.str();
  while (!config.secret.empty() && std::isspace(static_cast<unsigned char>(config.secret.back())))
    config.secret.pop_back();
  if (!in || config.secret.size() < 16)
    return caf::make_error(caf::sec::invalid_argument,
                           "cannot read a secret of 16 or more characters from "
                             + settings.cluster_secret_file);
  return config;
}

/// The admin port's secret: the cluster's, or one made for this node alone in
/// its data folder (data-dir/cookie), so parley-shell on the same machine can
/// read it.
caf::expected<std::string> admin_secret(const node_settings& settings,
                                        const cluster_config& cluster) {
  if (!cluster.secret.empty())
    return cluster.secret;
  auto path = settings.data_dir + "/cookie";
  std::ifstream in(path);
  std::string secret;
  if (std::getline(in, secret) && secret.size() >= 16)
    return secret;
  unsigned char raw[24];
  randombytes_buf(raw, sizeof(raw));
  char text[sizeof(raw) * 2 + 1];
  sodium_bin2hex(text, sizeof(text), raw, sizeof(raw));
  std::ofstream out(path, std::ios::trunc);
  out << text << '\n';
  out.close();
  ::chmod(path.c_str(), 0600);
  if (!out)
    return caf::make_error(caf::sec::cannot_open_file, "cannot write " + path);
  return std::string(text);
}

} // namespace

node::node(caf::actor_system& sys, const node_settings& settings)
  : sys_(sys), settings_(settings) {
  // nop
}

node::~node() {
  stop();
}

std::string node::start() {
  auto cluster = cluster_from(settings_);
  if (!cluster)
    return sys_.render(cluster.error());
  std::string error;
  std::shared_ptr<const media::token_key> media_key;
  if (!settings_.media_key_file.empty()) {
    auto key = media::token_key::load(settings_.media_key_file, error);
    if (!key)
      return "parley.media-key-file: " + error;
    media_key = std::make_shared<const media::token_key>(std::move(*key));
  }
  auto turn = load_turn_config(settings_, error);
  if (!error.empty())
    return "parley.turn-secret-file: " + error;
  auto db = database::open(settings_.data_dir, false, error, settings_.rocksdb_options);
  if (!db)
    return "cannot open the store in " + settings_.data_dir + ": " + error;
  auto run = begin_store_run(*db, error);
  if (!run)
    return "cannot start the store in " + settings_.data_dir + ": " + error;
  actors_.store = spawn_store(sys_, std::move(db), *run, settings_, metrics_);
  actors_.presence = spawn_presence(sys_, actors_.store, settings_);
  actors_.registry = spawn_registry(sys_, actors_.presence, actors_.store);
  actors_.admin = spawn_admin(sys_, settings_, metrics_);
  actors_.groups = spawn_group_directory(sys_, actors_.store, settings_);
  actors_.calls = spawn_call_actor(sys_, settings_);
  services_.verifier = spawn_verifier_pool(
    sys_, std::max(1u, std::thread::hardware_concurrency()));
  services_.throttle = spawn_throttle(sys_, settings_);
  services_.metrics = &metrics_;
  services_.media_key = std::move(media_key);
  services_.turn = std::move(turn);
  running_ = true;
  auto membership = spawn_membership(sys_, *cluster, actors_);
  if (!membership) {
    stop();
    return "cannot join the cluster: " + sys_.render(membership.error());
  }
  membership_ = *membership;
  routes_ptr routes;
  caf::scoped_actor self{sys_};
  self->request(membership_, caf::infinite, caf::get_atom::value)
    .receive([&](routes_ptr& x) { routes = std::move(x); }, [](caf::error&) {});
  auto listener = spawn_listener(sys_, routes, services_, settings_);
  if (!listener) {
    stop();
    return "cannot listen on " + settings_.host + ":" + std::to_string(settings_.port)
           + ": " + sys_.render(listener.error());
  }
  listener_ = listener->actor;
  port_ = listener->port;
  // The I/O thread yields to the threads it wakes (actors/thread_slice.hpp).
  sys_.middleman().backend().post([] { use_short_slice(); });
  self->send(membership_, subscribe_atom::value, actors_.store);
  self->send(membership_, subscribe_atom::value, actors_.groups);
  self->send(membership_, subscribe_atom::value, actors_.calls);
  self->send(membership_, subscribe_atom::value, listener_);
  self->send(membership_, subscribe_atom::value, actors_.admin);
  self->send(actors_.admin, attach_atom::value, listener_, membership_);
  auto endpoint = spawn_metrics_endpoint(sys_, settings_.metrics_host,
                                         settings_.metrics_port, metrics_);
  if (!endpoint) {
    stop();
    return "cannot serve metrics on " + settings_.metrics_host + ":"
           + std::to_string(settings_.metrics_port) + ": " + sys_.render(endpoint.error());
  }
  metrics_endpoint_ = endpoint->actor;
  metrics_port_ = endpoint->port;
  auto secret = admin_secret(settings_, *cluster);
  if (!secret) {
    stop();
    return sys_.render(secret.error());
  }
  auto admin = spawn_admin_port(sys_, settings_.admin_host, settings_.admin_port,
                                settings_.cluster_name, *secret, actors_.admin);
  if (!admin) {
    stop();
    return "cannot open the admin port " + settings_.admin_host + ":"
           + std::to_string(settings_.admin_port) + ": " + sys_.render(admin.error());
  }
  admin_port_actor_ = admin->actor;
  admin_port_ = admin->port;
  log(log_level::info, "node: ", settings_.cluster_name, " listening on ",
      settings_.host, ":", port_, ", data in ", settings_.data_dir,
      cluster->members.empty()
        ? std::string(", standalone")
        : ", cluster of " + std::to_string(cluster->members.size()),
      "; admin on ", settings_.admin_host, ":", admin_port_, ", metrics on ",
      settings_.metrics_host, ":", metrics_port_);
  return {};
}

void node::stop() {
  if (!running_)
    return;
  running_ = false;
  caf::scoped_actor self{sys_};
  auto wait_for = [&](const caf::actor& actor) {
    self->monitor(actor);
    self->receive([](const caf::down_msg&) {});
  };
  if (admin_port_actor_) {
    self->request(admin_port_actor_, std::chrono::seconds(5), stop_atom::value)
      .receive([](caf::ok_atom) {}, [](const caf::error&) {});
  }
  // Leave the cluster first, so that no peer links in again while this node
  // drains: peers see it down and stop routing to it.
  if (membership_) {
    self->request(membership_, caf::infinite, stop_atom::value)
      .receive([](caf::ok_atom) {}, [](const caf::error&) {});
  }
  if (listener_) {
    self->send(listener_, stop_atom::value);
    wait_for(listener_);
  }
  // Presence hands its last-seen times to the store, then the store writes all.
  auto finish = [&](const caf::actor& actor) {
    self->request(actor, caf::infinite, stop_atom::value)
      .receive([](caf::ok_atom) {},
               [&](const caf::error& err) {
                 log(log_level::error, "node: stopping failed: ", sys_.render(err));
               });
  };
  // Group actors stop before the store they write to (what they had not
  // answered is retried by its clients).
  if (actors_.groups)
    finish(actors_.groups);
  finish(actors_.presence);
  finish(actors_.store);
  for (auto& actor : {metrics_endpoint_, actors_.admin, actors_.calls, actors_.groups,
                      actors_.registry, actors_.presence, services_.verifier,
                      services_.throttle, membership_, actors_.store}) {
    if (!actor)
      continue;
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    wait_for(actor);
  }
  listener_ = nullptr;
  membership_ = nullptr;
  metrics_endpoint_ = nullptr;
  admin_port_actor_ = nullptr;
  services_ = node_services{nullptr, nullptr, &metrics_, nullptr};
  actors_ = node_actors{};
  log(log_level::info, "node: stopped");
}

} // namespace parley
