#include "actors/admin/admin.hpp"

#include "actors/clock.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"
#include "schema/errors.hpp"
#include "schema/rules.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include <memory>
#include <optional>

namespace parley {

namespace {

using json = nlohmann::json;
using words = std::vector<std::string>;

constexpr auto ask_timeout = std::chrono::seconds(3);

const char* help_text =
  "nodes                         members, up or down, connections, uptime\n"
  "actors [--node N]             actors by kind, mailbox sizes, largest mailboxes\n"
  "sessions [--node N] [--user U]  connected sessions\n"
  "whois USER                    home node, where connected, last seen, inbox depth\n"
  "inbox USER                    inbox depth and oldest age (never contents)\n"
  "stats [--node N]              messages in/out per second, receipts, errors,\n"
  "                              store batches, RocksDB figures\n"
  "kick USER                     close USER's connection\n"
  "drain NODE                    NODE stops taking clients and sends its own away\n"
  "loglevel LEVEL [--node N]     error, warning, info or debug (all nodes unless N)\n"
  "help                          this text";

std::string error_json(const std::string& text) {
  return json{{"error", text}}.dump();
}

/// The value of option `name` in `args`, or "".
std::string option(const words& args, const std::string& name) {
  for (size_t i = 1; i + 1 < args.size(); ++i)
    if (args[i] == name)
      return args[i + 1];
  return {};
}

/// Collects the answers of several requests into one JSON array (in the order
/// asked), then hands it to `done`. Unanswered ones hold an error entry.
struct gathering {
  std::vector<json> answers;
  size_t waiting;
  std::function<void(std::vector<json>&)> done;

  void set(size_t i, json value) {
    answers[i] = std::move(value);
    if (--waiting == 0)
      done(answers);
  }
};

class admin_state {
public:
  static inline const char* name = "admin";

  explicit admin_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(const node_settings* settings, node_metrics* metrics) {
    settings_ = settings;
    metrics_ = metrics;
    started_ = now_ms();
    return {
      [this](routes_atom, routes_ptr& routes) { routes_ = std::move(routes); },
      [this](attach_atom, const caf::actor& listener, const caf::actor& membership) {
        listener_ = listener;
        membership_ = membership;
      },
      [this](admin_atom, words& args) -> caf::result<std::string> {
        if (args.empty() || !routes_)
          return error_json("no command");
        return run(args);
      },
    };
  }

private:
  caf::result<std::string> run(const words& args) {
    auto& cmd = args[0];
    if (cmd == "help")
      return json{{"help", help_text}}.dump();
    if (cmd == "nodes")
      return nodes();
    if (cmd == "actors" || cmd == "stats" || cmd == "sessions")
      return on_nodes(args, cmd + "-local");
    if (cmd == "whois" || cmd == "inbox" || cmd == "kick") {
      if (args.size() < 2 || !valid_user_name(args[1]))
        return error_json(cmd + " needs a user name");
      return about_user(cmd, args[1]);
    }
    if (cmd == "drain") {
      if (args.size() < 2)
        return error_json("drain needs a node name");
      return forward_to(args[1], {"drain-local"});
    }
    if (cmd == "loglevel") {
      if (args.size() < 2 || !parse_level(args[1]))
        return error_json("loglevel needs error, warning, info or debug");
      return on_nodes(args, "loglevel-local");
    }
    // What other members' admin actors ask this one.
    if (cmd == "node-info")
      return node_info().dump();
    if (cmd == "stats-local")
      return stats_local();
    if (cmd == "actors-local")
      return actors_local();
    if (cmd == "sessions-local")
      return sessions_local(option(args, "--user"));
    if (cmd == "drain-local") {
      if (!listener_)
        return error_json("no listener");
      self_->send(listener_, drain_atom::value);
      log(log_level::warning, "admin: draining this node");
      return json{{"node", routes_->self()}, {"draining", true}}.dump();
    }
    if (cmd == "loglevel-local") {
      auto level = parse_level(args.size() > 1 ? args[1] : "");
      if (!level)
        return error_json("unknown level");
      set_log_level(*level);
      return json{{"node", routes_->self()}, {"loglevel", args[1]}}.dump();
    }
    return error_json("unknown command '" + cmd + "' (try help)");
  }

  static std::optional<log_level> parse_level(const std::string& text) {
    if (text == "error")
      return log_level::error;
    if (text == "warning")
      return log_level::warning;
    if (text == "info")
      return log_level::info;
    if (text == "debug")
      return log_level::debug;
    return std::nullopt;
  }

  // -- across nodes -------------------------------------------------------------------

  /// Asks `member`'s admin actor (this one's own included) for `args`.
  void ask(const std::string& member, words args, std::function<void(json)> then) {
    auto link = routes_->link(member);
    if (!link || !link->actors.admin) {
      then(json{{"node", member}, {"error", "unreachable"}});
      return;
    }
    self_->request(link->actors.admin, ask_timeout, admin_atom::value, std::move(args))
      .then(
        [then, member](const std::string& reply) {
          auto parsed = json::parse(reply, nullptr, false);
          then(parsed.is_discarded() ? json{{"node", member}, {"error", "bad answer"}}
                                     : std::move(parsed));
        },
        [this, then, member](const caf::error& err) {
          then(json{{"node", member}, {"error", self_->system().render(err)}});
        });
  }

  caf::result<std::string> forward_to(const std::string& member, words args) {
    auto& members = routes_->members();
    if (std::find(members.begin(), members.end(), member) == members.end())
      return error_json("no member named '" + member + "'");
    auto rp = self_->make_response_promise<std::string>();
    ask(member, std::move(args), [rp](json answer) mutable { rp.deliver(answer.dump()); });
    return rp;
  }

  /// Runs `local` on one member (--node N) or on all, as an array.
  caf::result<std::string> on_nodes(const words& args, const std::string& local) {
    words forwarded{local};
    forwarded.insert(forwarded.end(), args.begin() + 1, args.end());
    auto node = option(args, "--node");
    if (!node.empty())
      return forward_to(node, forwarded);
    auto rp = self_->make_response_promise<std::string>();
    auto& members = routes_->members();
    auto g = std::make_shared<gathering>();
    g->answers.resize(members.size());
    g->waiting = members.size();
    g->done = [rp](std::vector<json>& all) mutable { rp.deliver(json(all).dump()); };
    for (size_t i = 0; i < members.size(); ++i)
      ask(members[i], forwarded, [g, i](json answer) { g->set(i, std::move(answer)); });
    return rp;
  }

  caf::result<std::string> nodes() {
    auto rp = self_->make_response_promise<std::string>();
    auto& members = routes_->members();
    auto g = std::make_shared<gathering>();
    g->answers.resize(members.size());
    g->waiting = members.size();
    g->done = [rp](std::vector<json>& all) mutable { rp.deliver(json(all).dump()); };
    for (size_t i = 0; i < members.size(); ++i) {
      auto member = members[i];
      if (!routes_->link(member)) {
        g->set(i, json{{"node", member}, {"up", false}});
        continue;
      }
      ask(member, {"node-info"}, [g, i, member](json answer) {
        if (answer.contains("error"))
          answer = json{{"node", member}, {"up", false}, {"error", answer["error"]}};
        g->set(i, std::move(answer));
      });
    }
    return rp;
  }

  // -- one user -----------------------------------------------------------------------

  caf::result<std::string> about_user(const std::string& cmd, const std::string& user) {
    auto home_name = routes_->home_name(user);
    auto home = routes_->home(user);
    if (!home)
      return json{{"user", user}, {"home", home_name}, {"error", "home node unreachable"}}
        .dump();
    auto rp = self_->make_response_promise<std::string>();
    auto actors = home->actors;
    if (cmd == "kick") {
      self_->request(actors.registry, ask_timeout, kick_atom::value, user)
        .then([rp, user](bool kicked) mutable {
                rp.deliver(json{{"user", user}, {"kicked", kicked}}.dump());
              },
              [rp](const caf::error&) mutable {
                rp.deliver(error_json("the home node did not answer"));
              });
      return rp;
    }
    auto result = std::make_shared<json>(json{{"user", user}, {"home", home_name}});
    // inbox: the store; whois adds where connected and last seen.
    auto parts = cmd == "inbox" ? 1u : 3u;
    auto g = std::make_shared<gathering>();
    g->answers.resize(parts);
    g->waiting = parts;
    g->done = [rp, result](std::vector<json>& all) mutable {
      for (auto& part : all)
        for (auto& [key, value] : part.items())
          (*result)[key] = value;
      rp.deliver(result->dump());
    };
    self_->request(actors.store, ask_timeout, inbox_depth_atom::value, user)
      .then(
        [g](uint64_t depth, int64_t oldest) {
          json part{{"inboxDepth", depth}};
          part["oldestAgeSeconds"] = oldest == 0 ? 0 : (now_ms() - oldest) / 1000;
          g->set(0, std::move(part));
        },
        [g](const caf::error&) { g->set(0, json{{"inboxError", "no answer"}}); });
    if (parts == 1)
      return rp;
    self_->request(actors.presence, ask_timeout, last_seen_atom::value, user)
      .then(
        [g](const presence_info& info) {
          g->set(1, json{{"online", info.online}, {"lastSeen", info.last_seen}});
        },
        [g](const caf::error& err) {
          g->set(1, json{{"presenceError", std::string(to_string(to_wire_code(err)))}});
        });
    self_->request(actors.registry, ask_timeout, caf::get_atom::value, user)
      .then(
        [this, g](const session_ref& session) {
          if (!session)
            return g->set(2, json{{"connected", false}});
          self_->request(session.hub, ask_timeout, stats_atom::value, session.id)
            .then(
              [g](const std::string& stats) {
                auto s = json::parse(stats, nullptr, false);
                g->set(2, json{{"connected", true},
                               {"connectedVia", s.value("node", "?")},
                               {"address", s.value("address", "?")}});
              },
              [g](const caf::error&) { g->set(2, json{{"connected", true}}); });
        },
        [g](const caf::error&) { g->set(2, json{{"registryError", "no answer"}}); });
    return rp;
  }

  // -- this node ----------------------------------------------------------------------

  json node_info() {
    auto uptime = (now_ms() - started_) / 1000;
    return json{{"node", routes_->self()},
                {"up", true},
                {"connections", metrics_->connections.load()},
                {"uptimeSeconds", uptime},
                {"actors", self_->system().registry().running()}};
  }

  caf::result<std::string> stats_local() {
    auto now = now_ms();
    auto in = metrics_->messages_in.load();
    auto out = metrics_->messages_out.load();
    // Rates since the last `stats`, or since the start for the first.
    auto since = last_stats_at_ > 0 ? last_stats_at_ : started_;
    auto seconds = std::max<double>(0.001, (now - since) / 1000.0);
    json stats{{"node", routes_->self()},
               {"messagesInPerSecond", (in - last_in_) / seconds},
               {"messagesOutPerSecond", (out - last_out_) / seconds},
               {"messagesIn", in},
               {"messagesOut", out},
               {"receiptsDelivered", metrics_->receipts_delivered.load()},
               {"receiptsRead", metrics_->receipts_read.load()},
               {"logins", metrics_->logins.load()},
               {"connections", metrics_->connections.load()},
               {"inboxItems", metrics_->inbox_items.load()},
               {"storeWriteFailures", metrics_->store_write_failures.load()}};
    last_stats_at_ = now;
    last_in_ = in;
    last_out_ = out;
    json errors = json::object();
    for (size_t i = 0; i < node_metrics::error_codes; ++i)
      if (auto n = metrics_->errors[i].load(); n > 0)
        errors[std::string(to_string(static_cast<wire::ErrorCode>(i)))] = n;
    stats["errors"] = errors;
    auto rp = self_->make_response_promise<std::string>();
    auto local = routes_->link(routes_->self())->actors;
    // The figures of the home actors, each under its name.
    std::vector<std::pair<std::string, caf::actor>> named{
      {"store", local.store}, {"presence", local.presence}, {"registry", local.registry}};
    auto g = std::make_shared<gathering>();
    g->answers.resize(named.size());
    g->waiting = named.size();
    g->done = [this, rp, named, text = std::move(stats)](std::vector<json>& all) mutable {
      for (size_t i = 0; i < named.size(); ++i)
        text[named[i].first] = std::move(all[i]);
      text["storeBatches"] = batch_summary(metrics_->render());
      rp.deliver(text.dump());
    };
    for (size_t i = 0; i < named.size(); ++i)
      self_->request(named[i].second, ask_timeout, stats_atom::value)
        .then([g, i](const std::string& s) { g->set(i, json::parse(s, nullptr, false)); },
              [g, i](const caf::error&) { g->set(i, json{{"error", "no answer"}}); });
    return rp;
  }

  /// Count and mean of store batch sizes and commit times, from the rendered
  /// tally (so both views agree).
  static json batch_summary(const std::string& rendered) {
    auto value_of = [&](const std::string& name) -> double {
      auto pos = rendered.find("\n" + name + " ");
      if (pos == std::string::npos)
        return 0;
      return std::stod(rendered.substr(pos + name.size() + 2));
    };
    auto count = value_of("parley_store_batch_size_count");
    auto ops = value_of("parley_store_batch_size_sum");
    auto commit = value_of("parley_store_commit_seconds_sum");
    return json{{"batches", count},
                {"meanOperations", count > 0 ? ops / count : 0},
                {"meanCommitMilliseconds", count > 0 ? commit * 1000 / count : 0}};
  }

  caf::result<std::string> actors_local() {
    auto rp = self_->make_response_promise<std::string>();
    auto local = routes_->link(routes_->self())->actors;
    std::vector<std::pair<std::string, caf::actor>> named{
      {"store", local.store}, {"registry", local.registry}, {"presence", local.presence},
      {"membership", membership_}};
    auto g = std::make_shared<gathering>();
    g->answers.resize(named.size() + 1);
    g->waiting = named.size() + 1;
    auto self_name = routes_->self();
    auto running = self_->system().registry().running();
    auto own_mailbox = self_->mailbox().size();
    g->done = [rp, named, self_name, running, own_mailbox](std::vector<json>& all) mutable {
      json mailboxes{{"admin", own_mailbox}};
      for (size_t i = 0; i < named.size(); ++i)
        mailboxes[named[i].first] = all[i].value("mailbox", -1);
      // Sessions are not actors: they share the listener's mailbox.
      auto& listener = all.back();
      mailboxes["listener"] = listener["mailbox"];
      auto& sessions = listener["sessions"];
      rp.deliver(json{{"node", self_name},
                      {"running", running},
                      {"byKind",
                       {{"session", sessions.size()},
                        {"store", 1},
                        {"registry", 1},
                        {"presence", 1},
                        {"membership", 1},
                        {"admin", 1},
                        {"listener", 1}}},
                      {"mailboxes", mailboxes}}
                   .dump());
    };
    for (size_t i = 0; i < named.size(); ++i) {
      if (!named[i].second) {
        g->set(i, json::object());
        continue;
      }
      self_->request(named[i].second, ask_timeout, stats_atom::value)
        .then([g, i](const std::string& s) { g->set(i, json::parse(s, nullptr, false)); },
              [g, i](const caf::error&) { g->set(i, json::object()); });
    }
    with_listener([g, n = named.size()](json listener) { g->set(n, std::move(listener)); });
    return rp;
  }

  caf::result<std::string> sessions_local(const std::string& user) {
    auto rp = self_->make_response_promise<std::string>();
    with_listener([rp, user](json listener) mutable {
      json kept = json::array();
      for (auto& s : listener["sessions"])
        if (user.empty() || s.value("user", "") == user)
          kept.push_back(s);
      rp.deliver(kept.dump());
    });
    return rp;
  }

  /// The listener's figures: its mailbox (-1 when it does not answer) and an
  /// array of its sessions' figures.
  void with_listener(std::function<void(json)> then) {
    auto none = json{{"mailbox", -1}, {"sessions", json::array()}};
    if (!listener_)
      return then(none);
    self_->request(listener_, ask_timeout, stats_atom::value)
      .then(
        [then, none](const std::string& s) {
          auto parsed = json::parse(s, nullptr, false);
          if (!parsed.is_object() || !parsed.contains("sessions")
              || !parsed["sessions"].is_array())
            return then(none);
          then(std::move(parsed));
        },
        [then, none](const caf::error&) { then(none); });
  }

  caf::event_based_actor* self_;
  const node_settings* settings_ = nullptr;
  node_metrics* metrics_ = nullptr;
  routes_ptr routes_;
  caf::actor listener_;
  caf::actor membership_;
  int64_t started_ = 0;
  int64_t last_stats_at_ = 0;
  uint64_t last_in_ = 0;
  uint64_t last_out_ = 0;
};

using admin_actor = caf::stateful_actor<admin_state>;

caf::behavior admin_impl(admin_actor* self, const node_settings* settings,
                         node_metrics* metrics) {
  return self->state.make_behavior(settings, metrics);
}

} // namespace

caf::actor spawn_admin(caf::actor_system& sys, const node_settings& settings,
                       node_metrics& metrics) {
  return sys.spawn(admin_impl, &settings, &metrics);
}

} // namespace parley
