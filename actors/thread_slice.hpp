#pragma once

namespace parley {

/// Asks Linux for a short time slice (0.1 ms, the least it accepts) for the
/// calling thread; older kernels than 6.12 ignore the request. Meant for the
/// I/O thread: on a node pinned to one core, the scheduler thread it wakes (the
/// store's, with a request) otherwise waits until the I/O thread has used its
/// default slice (1.4 ms here); with the short one the woken thread runs at
/// once. Send → deliver p50 at 5,000 /s −13% (docs/BENCHMARKS.md, row 27).
void use_short_slice();

} // namespace parley
