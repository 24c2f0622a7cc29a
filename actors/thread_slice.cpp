#include "actors/thread_slice.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace parley {

namespace {

/// The kernel's struct sched_attr (its first version, 56 bytes): glibc 2.36
/// does not declare it, and <linux/sched/types.h> clashes with <sched.h>.
struct sched_attr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;  // for SCHED_OTHER since Linux 6.12: the slice
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

constexpr uint64_t short_slice_ns = 100'000;

} // namespace

void use_short_slice() {
  // Keeps the thread's policy and nice value; failure (a seccomp filter) is
  // harmless: the thread keeps the default slice.
  sched_attr attr{};
  if (syscall(SYS_sched_getattr, 0, &attr, sizeof(attr), 0) != 0)
    return;
  attr.size = sizeof(attr);
  attr.sched_runtime = short_slice_ns;
  syscall(SYS_sched_setattr, 0, &attr, 0);
}

} // namespace parley
