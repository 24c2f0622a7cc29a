#include "actors/store/store.hpp"

#include "actors/cluster/routes.hpp"
#include "actors/clock.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/log.hpp"
#include "actors/metrics.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"
#include "actors/store/courier.hpp"
#include "actors/store/groups.hpp"
#include "actors/store/keys.hpp"
#include "actors/store/records.hpp"
#include "schema/rules.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <array>
#include <unordered_map>
#include <unordered_set>

namespace parley {

namespace {

using forward_atom = caf::atom_constant<caf::atom("forward")>;

/// Receipts forwarded to one member in a single request, at most.
constexpr size_t forward_batch = 256;
constexpr auto forward_retry = std::chrono::seconds(1);

/// Message ids one receipt item carries, at most (its frame stays small).
constexpr size_t receipt_ids = 256;

/// Inbox seqs of store run r are r << 40 onwards: 2^40 items per user per run.
constexpr unsigned seq_run_shift = 40;

/// Below this many one-time prekeys, their owner is asked to publish more.
constexpr uint64_t prekeys_low_threshold = 20;

/// A user's one-time prekeys on disk (staged ones included).
struct prekey_supply {
  uint64_t next_seq = 1;
  uint64_t count = 0;
};

/// Receipts waiting on disk for another member's store.
struct forward_queue {
  uint64_t next_seq = 0;  // 0: not yet read from disk
  bool pending = false;   // there may be records on disk
  bool sending = false;   // a request is out
  // Below this seq every record was confirmed and deleted: reading from here
  // skips their tombstones, which a scan from the queue's start walks over
  // one by one (quadratic under load, W5). 0: from the start.
  uint64_t first_unconfirmed = 0;
};

/// A session's claim on its user's inbox.
struct subscription {
  session_ref session;
  /// Items below this seq were pushed to this session or are gone.
  uint64_t next_push = 0;

  /// Pushed and not yet acknowledged, with what each is and its size.
  struct pushed {
    item_kind kind;
    size_t bytes;
  };

  /// The window is full at parley.inbox-window items or parley.inbox-window-bytes
  /// bytes: a session holds what it was pushed until the client reads it, and a
  /// backlog of large messages must not outgrow parley.max-outgoing-bytes there.
  bool window_full(const node_settings& settings) const {
    return window_
           && (window_->in_flight.size() >= settings.inbox_window
               || window_->in_flight_bytes >= settings.inbox_window_bytes);
  }

  void add_in_flight(uint64_t seq, item_kind kind, size_t bytes) {
    auto& w = window();
    if (w.in_flight.emplace(seq, pushed{kind, bytes}).second)
      w.in_flight_bytes += bytes;
  }

  /// What `seq` is, if it is in flight.
  const pushed* in_flight(uint64_t seq) const {
    if (!window_)
      return nullptr;
    auto i = window_->in_flight.find(seq);
    return i == window_->in_flight.end() ? nullptr : &i->second;
  }

  /// Whether `seq` was in flight (and now is not).
  bool remove_in_flight(uint64_t seq) {
    if (!window_)
      return false;
    auto i = window_->in_flight.find(seq);
    if (i == window_->in_flight.end())
      return false;
    window_->in_flight_bytes -= i->second.bytes;
    window_->in_flight.erase(i);
    release_if_empty();
    return true;
  }

  /// Keeps the status of a message pushed (its acknowledgement then needs no
  /// read of the status record), by status key.
  void add_unacked(std::string key, message_status status) {
    window().unacked.emplace(std::move(key), std::move(status));
  }

  /// The status of a message pushed and not acknowledged (it is `stored`:
  /// only an acknowledgement changes it), forgotten here as its
  /// acknowledgement takes it.
  std::optional<message_status> take_unacked(const std::string& key) {
    if (!window_)
      return std::nullopt;
    auto i = window_->unacked.find(key);
    if (i == window_->unacked.end())
      return std::nullopt;
    auto status = std::move(i->second);
    window_->unacked.erase(i);
    release_if_empty();
    return status;
  }

  /// Forgets everything pushed: it will be pushed again from the inbox's head.
  void restart() {
    next_push = 0;
    window_.reset();
  }

private:
  struct pushed_items {
    std::unordered_map<uint64_t, pushed> in_flight;
    size_t in_flight_bytes = 0;
    std::unordered_map<std::string, message_status> unacked;
  };

  pushed_items& window() {
    if (!window_)
      window_ = std::make_unique<pushed_items>();
    return *window_;
  }

  /// Most logged-in users have nothing in flight most of the time: without
  /// its tables a subscription is 112 B smaller by its layout
  /// (docs/BENCHMARKS.md, row 37).
  void release_if_empty() {
    if (window_->in_flight.empty() && window_->unacked.empty())
      window_.reset();
  }

  std::unique_ptr<pushed_items> window_;  // none while nothing is pushed
};

/// About the bytes an item takes on the wire (its frame's variable parts).
size_t item_bytes(const inbox_item& item) {
  auto bytes = 64 + item.peer.size() + item.id.size() + item.payload.size()
               + item.group.size() + item.name.size();
  for (auto& member : item.members)
    bytes += member.size() + 8;
  for (auto& id : item.more_ids)
    bytes += id.size() + 8;
  return bytes;
}

/// Where the answer to a request goes, taken in place of a response promise:
/// the answer travels in the courier's batch (courier.hpp), not from this
/// thread. A request that came by way of delegation keeps CAF's promise.
class reply {
public:
  reply() = default;

  reply(caf::strong_actor_ptr to, caf::message_id id, parcels* out)
    : to_(std::move(to)), id_(id), out_(out) {
    // nop
  }

  /// An answer to an append from a hub: (sent_atom, session, ticket, answer).
  reply(caf::strong_actor_ptr hub, uint64_t session, uint64_t ticket, parcels* out)
    : to_(std::move(hub)), out_(out), ticket_(std::make_pair(session, ticket)) {
    // nop
  }

  explicit reply(caf::response_promise promise) : promise_(std::move(promise)) {
    // nop
  }

  template <class... Ts>
  void deliver(Ts&&... xs) {
    if (promise_)
      promise_->deliver(std::forward<Ts>(xs)...);
    else if (ticket_)
      out_->items.push_back(
        parcel{std::move(to_), id_,
               caf::make_message(sent_atom::value, ticket_->first, ticket_->second,
                                 std::forward<Ts>(xs)...)});
    else if (to_)
      out_->items.push_back(
        parcel{std::move(to_), id_, caf::make_message(std::forward<Ts>(xs)...)});
  }

private:
  caf::strong_actor_ptr to_;
  caf::message_id id_;
  parcels* out_ = nullptr;
  std::optional<caf::response_promise> promise_;
  std::optional<std::pair<uint64_t, uint64_t>> ticket_;  // session, ticket
};

class store_state {
public:
  static inline const char* name = "store";

  explicit store_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  void init(std::unique_ptr<database> db, uint64_t run, const node_settings* settings,
            const std::string& self_name, node_metrics* metrics) {
    db_ = std::move(db);
    courier_ = spawn_courier(self_->home_system());
    self_->link_to(courier_);
    parcels_.from = self_->ctrl();
    first_seq_ = run << seq_run_shift;
    settings_ = settings;
    self_name_ = self_name;
    groups_.emplace(*db_, batch_);
    metrics_ = metrics;
    // What waits in inboxes now, counted once; kept current from here on.
    int64_t items = 0;
    db_->scan("i", "j", [&items](std::string_view, std::string_view) {
      ++items;
      return true;
    });
    metrics_->inbox_items = items;
  }

  caf::behavior make_behavior() {
    self_->set_exit_handler([this](const caf::exit_msg& msg) {
      flush();
      self_->quit(msg.reason);
    });
    return {
      [this](register_atom, std::string& user, std::string& key) {
        return on_register(user, key);
      },
      [this](user_key_atom, const std::string& user) -> caf::result<std::string> {
        if (auto key = identity_key(user, false))
          return *key;
        return make_error(wire::ErrorCode::UNKNOWN_USER);
      },
      [this](append_atom, outgoing_message& msg, uint64_t session, uint64_t ticket) {
        on_append(msg, session, ticket);
      },
      [this](session_ended_atom, const std::string& user, const session_ref& session) {
        on_session_ended(user, session);
      },
      [this](subscribe_atom, const std::string& user, const session_ref& session) {
        on_subscribe(user, session);
      },
      [this](ack_atom, const std::string& user, const std::string& peer,
             const std::vector<std::string>& ids, uint8_t state) {
        on_ack(user, peer, ids, static_cast<message_state>(state));
      },
      [this](ack_receipts_atom, const std::string& user,
             const std::vector<uint64_t>& seqs) { on_ack_receipts(user, seqs); },
      [this](last_seen_atom, const last_seen_batch& times) {
        for (auto& [user, time] : times)
          batch_.Put(keys::last_seen(user), encode_u64(static_cast<uint64_t>(time)));
        schedule_flush(false);
      },
      [this](last_seen_atom, const std::string& user) -> caf::result<int64_t> {
        if (!known_user(user))
          return make_error(wire::ErrorCode::UNKNOWN_USER);
        std::string value;
        if (!db_->get(keys::last_seen(user), &value).ok())
          return 0;
        return static_cast<int64_t>(decode_u64(value).value_or(0));
      },
      [this](inbox_depth_atom, const std::string& user) {
        // How many wait, and since when (the oldest item's time, 0 if none).
        int64_t oldest = 0;
        db_->scan(keys::inbox_begin(user), keys::inbox_end(user),
                  [&](std::string_view key, std::string_view value) {
                    if (auto item = decode_inbox(value, keys::inbox_seq(key)))
                      oldest = item->time;
                    return false;
                  });
        return caf::make_message(depth(user), oldest);
      },
      [this](stats_atom) {
        std::string out = "{\"mailbox\":" + std::to_string(self_->mailbox().size())
                          + ",\"subscriptions\":" + std::to_string(subscriptions_.size())
                          + ",\"cachedUsers\":" + std::to_string(users_.size());
        for (auto [name, property] :
             {std::pair{"estimatedKeys", "rocksdb.estimate-num-keys"},
              std::pair{"memtableBytes", "rocksdb.cur-size-all-mem-tables"},
              std::pair{"sstBytes", "rocksdb.total-sst-files-size"},
              std::pair{"pendingCompactionBytes",
                        "rocksdb.estimate-pending-compaction-bytes"}}) {
          auto value = db_->property(property);
          out += std::string(",\"") + name + "\":" + (value.empty() ? "0" : value);
        }
        return out + "}";
      },
      [this](publish_keys_atom, const std::string& user, const std::string& signed_prekey,
             const std::vector<std::string>& one_time) {
        return on_publish_keys(user, signed_prekey, one_time);
      },
      [this](fetch_bundle_atom, const std::string& user) {
        return on_fetch_bundle(user);
      },
      [this](receipts_atom, std::vector<forwarded_receipt>& receipts) {
        return on_forwarded(receipts);
      },
      // Groups (actors/group/): records of the groups homed here, their ledgers,
      // and fan-out batches into the inboxes of users homed here.
      [this](group_load_atom, const std::string& group) -> caf::result<group_state> {
        if (auto g = groups_->group(group))
          return std::move(*g);
        return make_error(wire::ErrorCode::UNKNOWN_GROUP);
      },
      [this](group_save_atom, const group_state& g) {
        groups_->put_group(g);
        ok_replies_.emplace_back(take_reply());
        schedule_flush();
        return caf::delegated<caf::ok_atom>();
      },
      [this](ledger_atom, const std::string& group, const std::string& sender,
             const std::string& id, bool create, group_message_entry& entry) {
        return on_ledger(group, sender, id, create, entry);
      },
      [this](fanout_atom, group_fanout& batch) { return on_fanout(batch); },
      [this](message_info_atom, std::string& group, std::string& sender,
             std::string& id) {
        // Answered after the next write: it shows every receipt taken in before.
        info_replies_.push_back(info_reply{take_reply(),
                                           std::move(group), std::move(sender),
                                           std::move(id)});
        schedule_flush();
        return caf::delegated<message_info>();
      },
      [this](known_users_atom, const std::vector<std::string>& users) {
        std::vector<std::string> unknown;
        for (auto& user : users)
          if (!known_user(user))
            unknown.push_back(user);
        return unknown;
      },
      [this](routes_atom, routes_ptr& routes) {
        routes_ = std::move(routes);
        find_pending_forwards();
        send_forwards();
      },
      [this](forward_atom) { send_forwards(); },
      [this](flush_atom) { flush(); },
      [this](stop_atom) {
        flush();
        return caf::ok_atom::value;
      },
    };
  }

private:
  // -- requests --------------------------------------------------------------------

  caf::result<caf::ok_atom> on_register(const std::string& user,
                                        const std::string& key) {
    if (auto existing = identity_key(user)) {
      if (*existing != key)
        return make_error(wire::ErrorCode::NAME_TAKEN);
      // The same key again: a retried register; answer once it is durable.
    } else {
      user_record record{key, now_ms()};
      batch_.Put(keys::user(user), encode(record));
      remember_user(user, key);
      log(log_level::info, "registered user ", user);
    }
    ok_replies_.emplace_back(take_reply());
    schedule_flush();
    return caf::delegated<caf::ok_atom>();
  }

  /// Answered with a message to the hub, not a response: a hub waits for
  /// thousands of answers at once, and CAF 0.17 finds a response's handler by
  /// a linear search of the actor's pending requests (docs/BENCHMARKS.md, row 49).
  void on_append(outgoing_message& msg, uint64_t session, uint64_t ticket) {
    auto hub = self_->current_sender();
    auto refuse = [&](wire::ErrorCode code) {
      self_->send(caf::actor_cast<caf::actor>(hub), sent_atom::value, session, ticket,
                  make_error(code));
    };
    if (!known_user(msg.to))
      return refuse(wire::ErrorCode::UNKNOWN_USER);
    auto status_key = keys::status(msg.to, msg.from, msg.id);
    auto known = load_status(status_key);
    if (!known && refuse_as_full(msg))
      return refuse(wire::ErrorCode::INBOX_FULL);
    reply rp{std::move(hub), session, ticket, &parcels_};
    if (known) {
      // A retransmission: answer it like the first, deliver nothing new.
      append_replies_.emplace_back(std::move(rp), known->time);
    } else {
      auto now = now_ms();
      inbox_item item;
      item.kind = static_cast<uint8_t>(item_kind::message);
      item.peer = std::move(msg.from);
      item.id = std::move(msg.id);
      item.payload = std::move(msg.payload);
      item.time = now;
      auto seq = stage_inbox_item(msg.to, std::move(item));
      stage_status(status_key, message_status{seq, message_state::stored, now, {}});
      append_replies_.emplace_back(std::move(rp), now);
      bump(metrics_->messages_in);
    }
    schedule_flush();
  }

  /// Whether a new message is refused for its recipient's full inbox. Once one
  /// from a sender is, that sender's later ones to the same user are too until
  /// it comes again, even if the inbox drained meanwhile: a message sent behind
  /// it may already be on its way, and taking it would store it ahead.
  bool refuse_as_full(const outgoing_message& msg) {
    auto pair = [&] { return msg.to + '\n' + msg.from; };  // '\n' is in no name
    if (!refused_as_full_.empty()) {  // (no key built per message otherwise)
      auto held = refused_as_full_.find(pair());
      if (held != refused_as_full_.end()) {
        if (held->second != msg.id)
          return true;
        refused_as_full_.erase(held);
      }
    }
    if (depth(msg.to) < settings_->inbox_quota)
      return false;
    refused_as_full_.emplace(pair(), msg.id);
    return true;
  }

  // -- groups ------------------------------------------------------------------------

  /// Enters a group message into its group's ledger (here, its home), or finds
  /// it there: a retransmission goes to the recipients of the first attempt.
  /// Without `create`, only finds it (unknownMessage if it is not there).
  caf::result<group_message_entry> on_ledger(const std::string& group,
                                             const std::string& sender,
                                             const std::string& id, bool create,
                                             group_message_entry& entry) {
    if (auto known = groups_->message(group, sender, id)) {
      entry = std::move(*known);
    } else if (!create) {
      return make_error(wire::ErrorCode::UNKNOWN_MESSAGE);
    } else {
      for (auto& r : groups_->put_message(group, sender, id, entry))
        route_receipt(std::move(r));
    }
    ledger_replies_.emplace_back(take_reply(), std::move(entry));
    schedule_flush();
    return caf::delegated<group_message_entry>();
  }

  /// One batch of a group's fan-out into inboxes here; answered once durable
  /// with the recipients whose inbox is full (the rest have it). Deduplicated
  /// like sends: a repeated batch delivers nothing twice.
  caf::result<std::vector<std::string>> on_fanout(group_fanout& batch) {
    auto& item = batch.item;
    bool is_message = item.what() == item_kind::message;
    auto dedup_peer = is_message ? item.peer : group_peer(item.group);
    std::vector<std::string> full;
    for (auto& user : batch.recipients) {
      if (!known_user(user)) {
        log(log_level::warning, "store: group ", item.group, " has unknown member ",
            user);
        continue;
      }
      auto status_key = keys::status(user, dedup_peer, item.id);
      if (load_status(status_key))
        continue;
      if (is_message && depth(user) >= settings_->inbox_quota) {
        full.push_back(user);
        continue;
      }
      auto seq = stage_inbox_item(user, item);
      stage_status(status_key, message_status{seq, message_state::stored, item.time,
                                              is_message ? item.group : std::string()});
    }
    fanout_replies_.emplace_back(take_reply(), std::move(full));
    schedule_flush();
    return caf::delegated<std::vector<std::string>>();
  }

  // -- key directory ----------------------------------------------------------------

  caf::result<uint32_t, bool> on_publish_keys(const std::string& user,
                                        const std::string& signed_prekey,
                                        const std::vector<std::string>& one_time) {
    auto& supply = prekeys(user);
    if (supply.count + one_time.size() > settings_->max_prekeys)
      return make_error(wire::ErrorCode::LIMIT_EXCEEDED);
    if (!signed_prekey.empty())
      batch_.Put(keys::signed_prekey(user), signed_prekey);
    for (auto& key : one_time)
      batch_.Put(keys::one_time_prekey(user, supply.next_seq++), key);
    supply.count += one_time.size();
    std::string ignored;
    bool has_signed = !signed_prekey.empty()
                      || db_->get(keys::signed_prekey(user), &ignored).ok();
    count_replies_.emplace_back(take_reply(),
                                std::make_pair(static_cast<uint32_t>(supply.count),
                                               has_signed));
    schedule_flush();
    return caf::delegated<uint32_t, bool>();
  }

  /// Hands out a bundle, consuming the oldest one-time prekey; answered once the
  /// consumption is durable, so no prekey is ever handed out twice.
  caf::result<prekey_bundle> on_fetch_bundle(const std::string& user) {
    auto identity = identity_key(user);
    if (!identity)
      return make_error(wire::ErrorCode::UNKNOWN_USER);
    prekey_bundle bundle{user, *identity, {}, {}};
    if (!db_->get(keys::signed_prekey(user), &bundle.signed_prekey).ok())
      return make_error(wire::ErrorCode::NO_PREKEYS);
    auto& supply = prekeys(user);
    db_->scan(keys::prekeys_begin(user), keys::prekeys_end(user),
              [&](std::string_view key, std::string_view value) {
                if (!staged_consumed_.insert(std::string(key)).second)
                  return true;  // handed out earlier in this batch
                batch_.SingleDelete(std::string(key));
                bundle.one_time_prekey = value;
                return false;
              });
    if (!bundle.one_time_prekey.empty()) {
      --supply.count;
      if (supply.count < prekeys_low_threshold)
        low_prekeys_[user] = supply.count;
    }
    bundle_replies_.emplace_back(take_reply(), std::move(bundle));
    schedule_flush();
    return caf::delegated<prekey_bundle>();
  }

  prekey_supply& prekeys(const std::string& user) {
    auto i = prekeys_.find(user);
    if (i != prekeys_.end())
      return i->second;
    prekey_supply supply;
    db_->scan(keys::prekeys_begin(user), keys::prekeys_end(user),
              [&](std::string_view key, std::string_view) {
                ++supply.count;
                supply.next_seq = keys::inbox_seq(key) + 1;
                return true;
              });
    return prekeys_.emplace(user, supply).first->second;
  }

  void on_subscribe(const std::string& user, const session_ref& session) {
    // A newer session replaces an older one, which the registry has kicked; the
    // new one starts at the inbox's head, unacknowledged items included.
    auto& sub = subscriptions_[user];
    sub.session = session;
    sub.restart();
    // A user who publishes keys hears at login when it should publish more.
    if (std::string ignored; db_->get(keys::signed_prekey(user), &ignored).ok()
                             && prekeys(user).count < prekeys_low_threshold)
      low_prekeys_[user] = prekeys(user).count;
    touched_.insert(user);
    schedule_flush();
  }

  void on_ack(const std::string& user, const std::string& peer,
              const std::vector<std::string>& ids, message_state state) {
    if (state != message_state::delivered && state != message_state::read)
      return;
    auto now = now_ms();
    auto sub = subscriptions_.find(user);
    auto receipt_state = static_cast<uint8_t>(state == message_state::read
                                                ? wire::ReceiptState::READ
                                                : wire::ReceiptState::DELIVERED);
    // The direct receipts for a sender homed here go into one inbox item: one
    // write and one removal for the whole acknowledgement, not one per message.
    std::vector<std::string> local_ids;
    bool sender_here = home_of(peer) == self_name_;
    for (auto& id : ids) {
      auto status_key = keys::status(user, peer, id);
      auto status = sub != subscriptions_.end() ? sub->second.take_unacked(status_key)
                                                : std::nullopt;
      if (!status)
        status = load_acked_status(user, status_key);
      if (!status || status->state >= state)
        continue;  // unknown, or acknowledged before: nothing new to say
      if (status->state == message_state::stored)
        remove_inbox_item(user, status->seq);
      status->state = state;
      if (state == message_state::delivered)
        staged_status_[status_key] = *status;  // not written: see load_acked_status
      else
        stage_status(status_key, *status);
      bump(state == message_state::read ? metrics_->receipts_read
                                        : metrics_->receipts_delivered);
      if (status->group.empty() && sender_here) {
        local_ids.push_back(id);
        continue;
      }
      // A group message's receipt goes to its group's ledger, which tells the
      // sender once every recipient is there.
      auto kind = status->group.empty() ? receipt_kind::direct : receipt_kind::member;
      route_receipt(forwarded_receipt{peer, user, id, receipt_state, now,
                                      static_cast<uint8_t>(kind), status->group});
    }
    for (size_t i = 0; i < local_ids.size(); i += receipt_ids) {
      forwarded_receipt r{peer, user, std::move(local_ids[i]), receipt_state, now,
                          static_cast<uint8_t>(receipt_kind::direct), {}};
      auto end = std::min(local_ids.size(), i + receipt_ids);
      stage_receipt(r, {std::make_move_iterator(local_ids.begin() + i + 1),
                        std::make_move_iterator(local_ids.begin() + end)});
    }
    schedule_flush(false);
  }

  /// The member that is the home of a user or group.
  const std::string& home_of(const std::string& owner) const {
    return routes_ ? routes_->home_name(owner) : self_name_;
  }

  /// Stages a receipt in its sender's inbox here (a member receipt: in its
  /// group's ledger here), or in the durable queue for the member that is the
  /// sender's (the group's) home.
  void route_receipt(forwarded_receipt r) {
    bool member = r.what() == receipt_kind::member;
    auto& home = home_of(member ? r.group : r.to);
    if (home == self_name_) {
      if (!member)
        stage_receipt(r);
      else
        for (auto& a : groups_->take_receipt(r))
          route_receipt(std::move(a));
      return;
    }
    auto& queue = forwards_[home];
    if (queue.next_seq == 0)
      queue.next_seq = last_seq(keys::forward_begin(home), keys::forward_end(home)) + 1;
    batch_.Put(keys::forward(home, queue.next_seq++), encode(r));
    queue.pending = true;
  }

  /// `more_ids`: further messages with the same tick from the same peer.
  void stage_receipt(const forwarded_receipt& r, std::vector<std::string> more_ids = {}) {
    inbox_item receipt;
    receipt.kind = static_cast<uint8_t>(item_kind::receipt);
    receipt.state = r.state;
    receipt.id = r.id;
    receipt.more_ids = std::move(more_ids);
    receipt.time = r.time;
    if (r.what() == receipt_kind::aggregate)
      receipt.group = r.group;  // the peer is the group, not one recipient
    else
      receipt.peer = r.from;
    stage_inbox_item(r.to, std::move(receipt));
  }

  /// Receipts another member forwarded for users homed here. Forwarding may
  /// repeat a batch (its answer was lost): take each state in once.
  caf::result<caf::ok_atom> on_forwarded(const std::vector<forwarded_receipt>& receipts) {
    for (auto& r : receipts) {
      if (r.what() == receipt_kind::member) {
        // For the ledger of a group homed here, which counts each state once.
        for (auto& a : groups_->take_receipt(r))
          route_receipt(std::move(a));
        continue;
      }
      if (!known_user(r.to))
        continue;  // not a user of ours: nothing to keep it for
      auto key = keys::receipt_seen(r.to, r.from, r.id);
      uint64_t seen = 0;
      if (auto i = staged_seen_.find(key); i != staged_seen_.end()) {
        seen = i->second;
      } else if (std::string value; db_->get(key, &value).ok()) {
        seen = decode_u64(value).value_or(0);
      }
      if (r.state <= seen)
        continue;
      stage_receipt(r);
      batch_.Put(key, encode_u64(r.state));
      staged_seen_[key] = r.state;
    }
    ok_replies_.emplace_back(take_reply());
    schedule_flush();
    return caf::delegated<caf::ok_atom>();
  }

  // -- forwarding receipts to other members -------------------------------------

  /// After a restart: which members have receipts waiting on disk.
  void find_pending_forwards() {
    for (auto& member : routes_->members()) {
      if (member == self_name_ || forwards_.count(member) > 0)
        continue;
      auto last = last_seq(keys::forward_begin(member), keys::forward_end(member));
      forwards_[member] = forward_queue{last + 1, last > 0, false, 0};
    }
  }

  /// Sends each reachable member the oldest batch of its waiting receipts; one
  /// request per member at a time, deleted only once that member confirms.
  void send_forwards() {
    if (!routes_)
      return;
    for (auto& [member, queue] : forwards_) {
      if (!queue.pending || queue.sending)
        continue;
      auto link = routes_->link(member);
      if (!link)
        continue;  // resumed by the routes update that brings it back
      std::vector<forwarded_receipt> batch;
      std::vector<std::string> sent_keys;
      auto from = queue.first_unconfirmed > 0
                    ? keys::forward(member, queue.first_unconfirmed)
                    : keys::forward_begin(member);
      db_->scan(from, keys::forward_end(member),
                [&](std::string_view key, std::string_view value) {
                  if (auto r = decode_forward(value))
                    batch.push_back(std::move(*r));
                  sent_keys.emplace_back(key);
                  return sent_keys.size() < forward_batch;
                });
      if (sent_keys.empty()) {
        queue.pending = false;
        continue;
      }
      queue.sending = true;
      auto name = member;
      self_->request(link->actors.store, settings_->request_timeout,
                     receipts_atom::value, std::move(batch))
        .then(
          [this, name, sent_keys](caf::ok_atom) {
            for (auto& key : sent_keys)
              batch_.SingleDelete(key);
            auto& queue = forwards_[name];
            queue.sending = false;
            queue.first_unconfirmed = keys::inbox_seq(sent_keys.back()) + 1;
            schedule_flush();  // the flush sends the next batch
          },
          [this, name](const caf::error& err) {
            log(log_level::warning, "store: forwarding receipts to ", name,
                " failed: ", self_->system().render(err));
            forwards_[name].sending = false;
            self_->delayed_send(self_, forward_retry, forward_atom::value);
          });
    }
  }

  /// The largest seq in [begin, end), 0 if none.
  uint64_t last_seq(const std::string& begin, const std::string& end) {
    auto key = db_->last_key(begin, end);
    return key ? keys::inbox_seq(*key) : 0;
  }

  void on_ack_receipts(const std::string& user, const std::vector<uint64_t>& seqs) {
    auto i = subscriptions_.find(user);
    if (i == subscriptions_.end())
      return;
    // Only receipts (and group notices) this session holds: a seq is not proof
    // enough to delete a message, whose removal must come with its delivered
    // receipt.
    for (auto seq : seqs) {
      auto pushed = i->second.in_flight(seq);
      if (!pushed || pushed->kind == item_kind::message)
        continue;
      remove_inbox_item(user, seq);
    }
    schedule_flush(false);
  }

  void on_session_ended(const std::string& user, const session_ref& session) {
    auto i = subscriptions_.find(user);
    if (i != subscriptions_.end() && i->second.session == session)
      subscriptions_.erase(i);  // (not if replaced by a newer session of its user)
  }

  // -- staging writes --------------------------------------------------------------

  /// Gives `item` the user's next seq and stages it; returns the seq.
  uint64_t stage_inbox_item(const std::string& user, inbox_item item) {
    auto& next = next_seq(user);
    item.seq = next++;
    ++depth(user);
    metrics_->inbox_items.fetch_add(1, std::memory_order_relaxed);
    batch_.Put(keys::inbox(user, item.seq), encode_inbox(item));
    auto seq = item.seq;
    staged_items_.emplace_back(user, std::move(item));
    return seq;
  }

  /// Deletes an inbox item, which was written once: SingleDelete lets
  /// compaction drop both the put and the delete.
  void remove_inbox_item(const std::string& user, uint64_t seq) {
    batch_.SingleDelete(keys::inbox(user, seq));
    --depth(user);
    metrics_->inbox_items.fetch_sub(1, std::memory_order_relaxed);
    if (auto i = subscriptions_.find(user); i != subscriptions_.end()) {
      if (i->second.remove_in_flight(seq))
        touched_.insert(user);
    }
  }

  void stage_status(const std::string& key, const message_status& status) {
    batch_.Put(key, encode(status));
    staged_status_[key] = status;
  }

  // -- reads (staged writes first) ------------------------------------------------

  /// The user's key, cached once read unless `cache` is false: a login reads
  /// its user's key once, and most logged-in users are idle; the cache is for
  /// the users that messages are sent to (docs/BENCHMARKS.md, row 47).
  std::optional<std::string> identity_key(const std::string& user, bool cache = true) {
    if (auto i = users_.find(user); i != users_.end())
      return std::string{i->second.data(), i->second.size()};
    std::string value;
    if (!db_->get(keys::user(user), &value).ok())
      return std::nullopt;
    auto record = decode_user(value);
    if (!record)
      return std::nullopt;
    if (cache)
      remember_user(user, record->identity_key);
    return std::move(record->identity_key);
  }

  /// Whether `user` is registered, without copying its key: asked for every
  /// message.
  bool known_user(const std::string& user) {
    return users_.count(user) > 0 || identity_key(user).has_value();
  }

  void remember_user(const std::string& user, const std::string& key) {
    if (key.size() != identity_key_bytes)
      return;  // registration checks the size; an odd record is read each time
    auto& cached = users_[user];
    std::copy(key.begin(), key.end(), cached.begin());
  }

  std::optional<message_status> load_status(const std::string& key) {
    if (auto i = staged_status_.find(key); i != staged_status_.end())
      return i->second;
    std::string value;
    if (!db_->get(key, &value).ok())
      return std::nullopt;
    return decode_status(value);
  }

  /// A message's status as acknowledgements left it. `delivered` is never
  /// written (one RocksDB write less per message): a status on disk that says
  /// `stored` while its inbox item is gone was delivered.
  std::optional<message_status> load_acked_status(const std::string& user,
                                                  const std::string& key) {
    if (auto i = staged_status_.find(key); i != staged_status_.end())
      return i->second;  // as staged (a staged item is not on disk yet)
    auto status = load_status(key);
    std::string ignored;
    if (status && status->state == message_state::stored
        && db_->get(keys::inbox(user, status->seq), &ignored).IsNotFound())
      status->state = message_state::delivered;
    return status;
  }

  /// Items in the user's inbox, staged ones included; counted once from disk.
  uint64_t& depth(const std::string& user) {
    auto i = depths_.find(user);
    if (i != depths_.end())
      return i->second;
    uint64_t n = 0;
    db_->scan(keys::inbox_begin(user), keys::inbox_end(user),
              [&n](std::string_view, std::string_view) {
                ++n;
                return true;
              });
    return depths_.emplace(user, n).first->second;
  }

  /// The seq the user's next inbox item gets: this run's first for a user not
  /// given one yet (above all that wait from earlier runs).
  uint64_t& next_seq(const std::string& user) {
    return next_seqs_.try_emplace(user, first_seq_).first->second;
  }

  /// The same, without giving the user an entry: most users who log in are
  /// given no new item (docs/BENCHMARKS.md, row 38).
  uint64_t peek_next_seq(const std::string& user) const {
    auto i = next_seqs_.find(user);
    return i == next_seqs_.end() ? first_seq_ : i->second;
  }

  // -- group commit ----------------------------------------------------------------

  /// Without `durable`, the batch is written but not fsynced unless something
  /// else in it needs that: acknowledgements and last-seen times promise no
  /// one anything on disk. A killed node loses none of them (the WAL is
  /// written); a machine that dies loses the last ones, and the messages they
  /// acknowledged come again and are acknowledged again (devices keep ids).
  void schedule_flush(bool durable = true) {
    sync_batch_ = sync_batch_ || durable;
    if (flush_scheduled_)
      return;
    flush_scheduled_ = true;
    // Behind every request already in the mailbox: they all join this batch.
    self_->send(self_, flush_atom::value);
  }

  void flush() {
    flush_scheduled_ = false;
    metrics_->saw_mailbox(self_->mailbox().size());
    auto ops = batch_.Count();
    auto started = std::chrono::steady_clock::now();
    auto sync = settings_->fsync && sync_batch_;
    sync_batch_ = false;
    auto status = ops > 0 ? db_->write(batch_, sync) : rocksdb::Status::OK();
    if (ops > 0) {
      metrics_->batch_size.observe(ops);
      metrics_->commit_latency.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    batch_.Clear();
    groups_->clear_staged();
    staged_status_.clear();
    staged_seen_.clear();
    staged_consumed_.clear();
    if (!status.ok()) {
      fail_batch(status);
      return;
    }
    // Pushes leave before the answers: whoever gets an answer from this batch has
    // been sent everything the batch made deliverable to it.
    push_staged_items();
    for (auto& user : touched_)
      if (auto i = subscriptions_.find(user); i != subscriptions_.end())
        refill(user, i->second);
    touched_.clear();
    for (auto& [user, items] : outgoing_)
      if (auto i = subscriptions_.find(user); i != subscriptions_.end())
        parcels_.items.push_back(
          parcel{caf::actor_cast<caf::strong_actor_ptr>(i->second.session.hub),
                 caf::make_message_id(),
                 caf::make_message(deliver_atom::value, i->second.session.id,
                                   std::move(items))});
    outgoing_.clear();
    for (auto& rp : ok_replies_)
      rp.deliver(caf::ok_atom::value);
    ok_replies_.clear();
    for (auto& [rp, time] : append_replies_)
      rp.deliver(time);
    append_replies_.clear();
    for (auto& [rp, count] : count_replies_)
      rp.deliver(count.first, count.second);
    count_replies_.clear();
    for (auto& [rp, bundle] : bundle_replies_)
      rp.deliver(std::move(bundle));
    bundle_replies_.clear();
    for (auto& [rp, entry] : ledger_replies_)
      rp.deliver(std::move(entry));
    ledger_replies_.clear();
    for (auto& [rp, full] : fanout_replies_)
      rp.deliver(std::move(full));
    fanout_replies_.clear();
    for (auto& r : info_replies_) {
      if (auto info = groups_->info(r.group, r.sender, r.id))
        r.promise.deliver(std::move(*info));
      else
        r.promise.deliver(make_error(wire::ErrorCode::UNKNOWN_MESSAGE));
    }
    info_replies_.clear();
    for (auto& [user, count] : low_prekeys_)
      if (auto i = subscriptions_.find(user); i != subscriptions_.end())
        parcels_.items.push_back(
          parcel{caf::actor_cast<caf::strong_actor_ptr>(i->second.session.hub),
                 caf::make_message_id(),
                 caf::make_message(prekeys_low_atom::value, i->second.session.id,
                                   static_cast<uint32_t>(count))});
    low_prekeys_.clear();
    send_parcels();
    send_forwards();
  }

  /// Everything this batch answers and pushes, in one message to the courier.
  void send_parcels() {
    if (parcels_.items.empty())
      return;
    self_->send(courier_, std::move(parcels_));
    parcels_.items.clear();  // (moved from: emptied for the next batch)
    parcels_.from = self_->ctrl();
  }

  /// The answer to the current request, for later.
  reply take_reply() {
    auto& element = *self_->current_mailbox_element();
    if (!element.stages.empty())
      return reply{self_->make_response_promise()};
    auto id = self_->take_current_message_id();
    if (!id.is_request())
      return {};  // sent, not requested: nobody waits for an answer
    return reply{self_->current_sender(), id.response_id(), &parcels_};
  }

  /// Nothing of the batch is durable: say so to everyone who waits for it and
  /// forget every cached fact it may have changed.
  void fail_batch(const rocksdb::Status& status) {
    log(log_level::error, "store: write failed: ", status.ToString());
    bump(metrics_->store_write_failures);
    auto err = make_error(wire::ErrorCode::INTERNAL);
    for (auto& rp : ok_replies_)
      rp.deliver(err);
    for (auto& [rp, time] : append_replies_)
      rp.deliver(err);
    for (auto& [rp, count] : count_replies_)
      rp.deliver(err);
    for (auto& [rp, bundle] : bundle_replies_)
      rp.deliver(err);
    for (auto& [rp, entry] : ledger_replies_)
      rp.deliver(err);
    for (auto& [rp, full] : fanout_replies_)
      rp.deliver(err);
    for (auto& r : info_replies_)
      r.promise.deliver(err);
    send_parcels();
    ok_replies_.clear();
    append_replies_.clear();
    count_replies_.clear();
    bundle_replies_.clear();
    ledger_replies_.clear();
    fanout_replies_.clear();
    info_replies_.clear();
    low_prekeys_.clear();
    prekeys_.clear();
    staged_items_.clear();
    users_.clear();
    depths_.clear();  // next_seqs_ stay: a seq of the failed batch is not reused
    int64_t items = 0;  // the staged ones were counted and are not there
    db_->scan("i", "j", [&items](std::string_view, std::string_view) {
      ++items;
      return true;
    });
    metrics_->inbox_items = items;
    forwards_.clear();  // their counters and flags are re-read from disk
    if (routes_)
      find_pending_forwards();
    for (auto& [user, sub] : subscriptions_) {
      sub.restart();
      touched_.insert(user);
    }
    schedule_flush();  // retry the refills, which read what is really on disk
  }

  /// Pushes freshly committed items straight from memory to sessions that have
  /// room and nothing older waiting on disk.
  void push_staged_items() {
    for (auto& [user, item] : staged_items_) {
      auto i = subscriptions_.find(user);
      if (i == subscriptions_.end())
        continue;
      auto& sub = i->second;
      if (sub.next_push != item.seq || sub.window_full(*settings_))
        continue;  // older items wait on disk, or the window is full
      note_pushed(user, sub, item);
      sub.next_push = item.seq + 1;
      outgoing_[user].push_back(std::move(item));
    }
    staged_items_.clear();
  }

  void note_pushed(const std::string& user, subscription& sub, const inbox_item& item) {
    sub.add_in_flight(item.seq, item.what(), item_bytes(item));
    if (item.what() == item_kind::message)
      sub.add_unacked(keys::status(user, item.peer, item.id),
                      message_status{item.seq, message_state::stored, item.time,
                                     item.group});
  }

  /// Reads waiting items from disk into the session's free window.
  void refill(const std::string& user, subscription& sub) {
    auto end = peek_next_seq(user);
    if (sub.next_push >= end || sub.window_full(*settings_))
      return;
    auto& out = outgoing_[user];
    bool filled = false;
    auto status = db_->scan(
      keys::inbox(user, sub.next_push), keys::inbox_end(user),
      [&](std::string_view key, std::string_view value) {
        auto seq = keys::inbox_seq(key);
        auto item = decode_inbox(value, seq);
        if (!item) {
          log(log_level::error, "store: undecodable inbox item of ", user,
              " seq ", seq, " skipped");
        } else {
          note_pushed(user, sub, *item);
          out.push_back(std::move(*item));
        }
        sub.next_push = seq + 1;
        filled = sub.window_full(*settings_);
        return !filled;
      });
    if (!status.ok()) {
      log(log_level::error, "store: inbox read failed: ", status.ToString());
      return;
    }
    if (!filled)
      sub.next_push = end;  // everything committed has been considered
  }

  // -- state -----------------------------------------------------------------------

  caf::event_based_actor* self_;
  std::unique_ptr<database> db_;
  const node_settings* settings_ = nullptr;
  node_metrics* metrics_ = nullptr;
  std::string self_name_;
  routes_ptr routes_;  // where users live; nothing routes out before it comes

  // Receipts for users (and groups) homed elsewhere.
  std::unordered_map<std::string, forward_queue> forwards_;

  // Groups homed here (staging into batch_).
  std::optional<group_tables> groups_;

  // The batch being staged and who waits for it.
  rocksdb::WriteBatch batch_;
  caf::actor courier_;  // carries the answers and pushes of each batch
  parcels parcels_;
  bool flush_scheduled_ = false;
  bool sync_batch_ = false;  // something staged needs the fsync
  std::vector<reply> ok_replies_;
  std::vector<std::pair<reply, int64_t>> append_replies_;
  std::vector<std::pair<reply, std::pair<uint32_t, bool>>> count_replies_;
  std::vector<std::pair<reply, prekey_bundle>> bundle_replies_;
  std::vector<std::pair<reply, group_message_entry>> ledger_replies_;
  std::vector<std::pair<reply, std::vector<std::string>>> fanout_replies_;
  struct info_reply {
    reply promise;
    std::string group;
    std::string sender;
    std::string id;
  };
  std::vector<info_reply> info_replies_;
  std::unordered_set<std::string> staged_consumed_;  // prekeys handed out
  std::unordered_map<std::string, uint64_t> low_prekeys_;  // owners to tell
  std::vector<std::pair<std::string, inbox_item>> staged_items_;
  std::unordered_map<std::string, message_status> staged_status_;
  std::unordered_map<std::string, uint64_t> staged_seen_;

  // Inbox seqs: this run's first, and each user's next.
  uint64_t first_seq_ = 0;
  std::unordered_map<std::string, uint64_t> next_seqs_;

  // Caches of what is on disk (or staged).
  /// name -> identity key, in the table entry itself: a std::string of 32 B
  /// is an allocation of its own (docs/BENCHMARKS.md, row 40).
  std::unordered_map<std::string, std::array<char, identity_key_bytes>> users_;
  std::unordered_map<std::string, uint64_t> depths_;  // inbox items per user
  std::unordered_map<std::string, prekey_supply> prekeys_;
  /// "recipient\nsender" -> the id refused for a full inbox, until sent again.
  std::unordered_map<std::string, std::string> refused_as_full_;

  // Delivery.
  std::unordered_map<std::string, subscription> subscriptions_;
  std::unordered_set<std::string> touched_;  // subscriptions that may refill
  std::unordered_map<std::string, inbox_items> outgoing_;
};

using store_actor = caf::stateful_actor<store_state>;

caf::behavior store_impl(store_actor* self, database* db, uint64_t run,
                         const node_settings* settings, node_metrics* metrics) {
  self->state.init(std::unique_ptr<database>(db), run, settings, settings->cluster_name,
                   metrics);
  return self->state.make_behavior();
}

} // namespace

std::optional<uint64_t> begin_store_run(database& db, std::string& error) {
  std::string value;
  auto read = db.get(keys::store_run(), &value);
  if (!read.ok() && !read.IsNotFound()) {
    error = read.ToString();
    return std::nullopt;
  }
  uint64_t run = read.ok() ? decode_u64(value).value_or(0) + 1 : 1;
  if (run >= uint64_t{1} << (64 - seq_run_shift)) {
    error = "the store has run out of runs";
    return std::nullopt;
  }
  rocksdb::WriteBatch batch;
  batch.Put(keys::store_run(), encode_u64(run));
  if (auto written = db.write(batch, true); !written.ok()) {
    error = written.ToString();
    return std::nullopt;
  }
  return run;
}

caf::actor spawn_store(caf::actor_system& sys, std::unique_ptr<database> db, uint64_t run,
                       const node_settings& settings, node_metrics& metrics) {
  // Scheduled, not detached: a detached actor's thread waits at shutdown until
  // every reference to the actor is gone, and in a cluster under load some
  // reference outlived that wait in ~actor_system (1 stop in ~10 hung there,
  // cause inside CAF not found). Its fsync blocks a scheduler thread instead.
  return sys.spawn(store_impl, db.release(), run, &settings, &metrics);
}

} // namespace parley
