#!/usr/bin/env python3
"""perf_cores_check.py DEPLOY_DIR: deploy/perf_cores.py puts each sample of
`perf script` text in the category its stack names, per core thread, and
leaves out threads that are not cores."""

import os
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import perf_cores  # noqa: E402

SAMPLES = """ebb-core-0 1 1.0:    1 cpu-clock:
\t45360 ebb::detail::(anonymous namespace)::loop_entry+0xe00 (/x/ebb-memcached)
\t4a62e ebb::platform::(anonymous namespace)::trampoline+0x1e (/x/ebb-memcached)

ebb-core-0 1 1.1:    1 cpu-clock:
\tffffffff821fc68d mutex_lock+0x1d ([kernel.kallsyms])
\tffffffff8172ff14 do_epoll_wait+0x1a4 ([kernel.kallsyms])
\t108f36 epoll_wait+0x56 (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t452ab ebb::detail::(anonymous namespace)::loop_entry+0xd4b (/x/ebb-memcached)

ebb-core-1 2 1.2:    1 cpu-clock:
\tffffffff8200ec5b tcp_sendmsg+0x2b ([kernel.kallsyms])
\tfde9d __GI___writev+0x4d (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t631c2 ebb::net::posix::(anonymous namespace)::PosixConnection::send+0x92 (/x/ebb-memcached)

ebb-core-1 2 1.3:    1 cpu-clock:
\t15992 ebb::memcached::ItemTable::find+0x22 (/x/ebb-memcached)
\t24bb0 ebb::memcached::ascii::handle+0x18b0 (/x/ebb-memcached)

ebb-core-1 2 1.4:    1 cpu-clock:
\t15000 ebb::mem::SlabAllocator::allocate+0x22 (/x/ebb-memcached)
\t15992 ebb::memcached::ItemTable::allocate+0x22 (/x/ebb-memcached)

ebb-core-1 2 1.5:    1 cpu-clock:
\t26b94 ebb::memcached::ascii::handle+0x484 (/x/ebb-memcached)

perf 3 1.6:    1 cpu-clock:
\t26b94 main+0x484 (/usr/bin/perf)
"""


def main():
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(SAMPLES)
    cores = perf_cores.read(f.name)
    os.unlink(f.name)
    assert sorted(cores) == ["ebb-core-0", "ebb-core-1"], sorted(cores)
    c0, f0 = cores["ebb-core-0"]
    assert c0 == {"event loop (dispatch, idle spin)": 1, perf_cores.EPOLL: 1}, c0
    c1, _ = cores["ebb-core-1"]
    assert c1 == {perf_cores.KERNEL: 1, "memcached store": 1, "memory allocation": 1,
                  "memcached protocol": 1}, c1
    table = perf_cores.markdown(cores)
    assert table[2].startswith("| 0 | 2 |") and "50%" in table[2], table
    assert "`ebb::detail::loop_entry` 50%" in "\n".join(table), table
    print("perf_cores_check: samples go to their categories, per core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
