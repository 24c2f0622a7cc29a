#include "tools/chat/group_commands.hpp"

#include "tools/chat/device.hpp"
#include "tools/client/message_id.hpp"

namespace parley::chat {

namespace {

/// Runs a group request on a fresh connection, remembers and prints the answer.
template <class Request>
int group_request(context& ctx, Request request) {
  auto d = device::open(ctx, false);
  if (!d || !d->connect())
    return exit_failed;
  auto info = request(d->link());
  if (!info) {
    ctx.out.print(info.error());
    return exit_failed;
  }
  if (auto ok = d->client().remember_group(*info); !ok) {
    ctx.out.print(ok.error());
    return exit_failed;
  }
  ctx.out.print(*info);
  return exit_done;
}

} // namespace

int run_group_create(context& ctx, const std::string& name,
                     const std::vector<std::string>& members) {
  auto id = new_message_id();  // 16 random bytes, like a message id
  return group_request(
    ctx, [&](client::connection& c) { return c.create_group(id, name, members); });
}

int run_group_change(context& ctx, const std::string& group, const std::string& what,
                     const std::vector<std::string>& members) {
  auto id = parse_group(ctx, group);
  if (!id)
    return exit_usage;
  return group_request(ctx, [&](client::connection& c) {
    if (what == "add")
      return c.add_members(*id, members);
    if (what == "remove")
      return c.remove_members(*id, members);
    return c.promote(*id, members);
  });
}

int run_group_leave(context& ctx, const std::string& group) {
  auto id = parse_group(ctx, group);
  if (!id)
    return exit_usage;
  auto d = device::open(ctx, false);
  if (!d || !d->connect())
    return exit_failed;
  auto info = d->link().leave_group(*id);
  if (!info) {
    ctx.out.print(info.error());
    return exit_failed;
  }
  if (auto ok = d->store().forget_group(to_hex(*id)); !ok) {
    ctx.out.print(ok.error());
    return exit_failed;
  }
  ctx.out.info("left '" + info->name + "' (#" + to_hex(*id) + ")");
  return exit_done;
}

int run_group_info(context& ctx, const std::string& group) {
  auto id = parse_group(ctx, group);
  if (!id)
    return exit_usage;
  return group_request(ctx, [&](client::connection& c) { return c.query_group(*id); });
}

int run_group_list(context& ctx) {
  auto store = client::device_store::open_for(ctx.keys.home(), ctx.user);
  if (!store) {
    ctx.out.print(store.error());
    return exit_failed;
  }
  auto groups = (*store)->groups();
  if (!groups) {
    ctx.out.print(groups.error());
    return exit_failed;
  }
  if (groups->empty())
    ctx.out.info("no groups on this device");
  for (auto& g : *groups)
    ctx.out.print(g.info);
  return exit_done;
}

int run_info(context& ctx, const std::string& id) {
  auto raw = from_hex(id);
  if (!raw || raw->size() != 16) {
    ctx.out.print(local_failure("not a message id (32 hex digits): " + id));
    return exit_usage;
  }
  auto store = client::device_store::open_for(ctx.keys.home(), ctx.user);
  if (!store) {
    ctx.out.print(store.error());
    return exit_failed;
  }
  auto m = (*store)->outgoing_by_id(*raw);
  if (!m) {
    ctx.out.print(m.error());
    return exit_failed;
  }
  if (!*m) {
    ctx.out.print(local_failure("no message of ours with id " + id + " on this device"));
    return exit_failed;
  }
  auto aggregate = client::tick_name((*m)->state, true);
  if ((*m)->group.empty()) {
    ctx.out.info("to " + (*m)->peer + ": " + aggregate);
    return exit_done;
  }
  auto group = from_hex((*m)->group).value_or(std::string());
  store->reset();  // the device opens it again
  auto d = device::open(ctx, false);
  if (!d || !d->connect())
    return exit_failed;
  auto info = d->link().message_info_of(group, *raw);
  if (!info) {
    ctx.out.print(info.error());
    return exit_failed;
  }
  ctx.out.print(*info, aggregate);
  return exit_done;
}

} // namespace parley::chat
