#include "actors/group/fanout.hpp"

#include <caf/all.hpp>

namespace parley {

void fanout_engine::start(const inbox_item& item, const std::vector<std::string>& recipients,
                          done_handler done) {
  auto id = next_job_++;
  jobs_[id].done = std::move(done);
  if (!routes_)
    return finish(id, make_error(wire::ErrorCode::UNAVAILABLE));
  std::unordered_map<std::string, std::vector<std::string>> by_node;
  for (auto& user : recipients)
    by_node[routes_->home_name(user)].push_back(user);
  auto size = std::max<size_t>(1, settings_->group_fanout_batch);
  size_t batches = 0;
  for (auto& [node, users] : by_node) {
    auto& queue = destinations_[node].queue;
    for (size_t first = 0; first < users.size(); first += size) {
      auto last = std::min(users.size(), first + size);
      group_fanout content;
      content.recipients.assign(users.begin() + static_cast<ptrdiff_t>(first),
                                users.begin() + static_cast<ptrdiff_t>(last));
      content.item = item;
      queue.push_back(batch{id, std::move(content)});
      ++batches;
    }
  }
  jobs_[id].batches_left = batches;
  if (batches == 0)
    return finish(id, caf::error{});
  for (auto& entry : by_node)
    pump(entry.first);
}

void fanout_engine::pump(const std::string& node) {
  // References to map elements survive rehashing (a callback may add nodes).
  auto& d = destinations_[node];
  auto window = std::max<size_t>(1, settings_->group_fanout_window);
  while (!d.queue.empty() && d.in_flight < window) {
    if (jobs_.count(d.queue.front().job) == 0) {
      d.queue.pop_front();  // its fan-out failed elsewhere
      continue;
    }
    auto link = routes_ ? routes_->link(node) : nullptr;
    if (link == nullptr)
      return fail(node, d.queue.front().job, make_error(wire::ErrorCode::UNAVAILABLE));
    if (d.in_flight > 0 && d.generation != link->generation)
      return;  // the older link's answers first (see the header)
    d.generation = link->generation;
    auto b = std::move(d.queue.front());
    d.queue.pop_front();
    ++d.in_flight;
    auto job_id = b.job;
    self_->request(link->actors.store, settings_->request_timeout, fanout_atom::value,
                   std::move(b.content))
      .then(
        [this, node, job_id](std::vector<std::string>& full) {
          --destinations_[node].in_flight;
          batch_done(job_id, std::move(full));
          pump(node);
        },
        [this, node, job_id](const caf::error& err) {
          --destinations_[node].in_flight;
          fail(node, job_id, err);
          pump(node);
        });
  }
}

void fanout_engine::batch_done(uint64_t job_id, std::vector<std::string> full) {
  auto i = jobs_.find(job_id);
  if (i == jobs_.end())
    return;  // failed already
  auto& j = i->second;
  j.full.insert(j.full.end(), std::make_move_iterator(full.begin()),
                std::make_move_iterator(full.end()));
  if (--j.batches_left == 0)
    finish(job_id, caf::error{});
}

void fanout_engine::fail(const std::string& node, uint64_t job_id, const caf::error& err) {
  auto& d = destinations_[node];
  std::vector<uint64_t> doomed{job_id};
  for (auto& b : d.queue)
    doomed.push_back(b.job);
  d.queue.clear();
  for (auto id : doomed)
    finish(id, err);
}

void fanout_engine::finish(uint64_t job_id, const caf::error& err) {
  auto i = jobs_.find(job_id);
  if (i == jobs_.end())
    return;
  auto j = std::move(i->second);
  jobs_.erase(i);
  // The handler may start new fan-outs: it runs after the job is gone.
  j.done(err, std::move(j.full));
}

} // namespace parley
