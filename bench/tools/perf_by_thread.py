#!/usr/bin/env python3
"""Per-thread breakdown of a `perf record -g` profile by what each sample's stack contains.

    perf script -i FILE | bench/tools/perf_by_thread.py [THREADS]

Release builds have no frame pointers, so call graphs do not unwind into callers reliably; the
stack of one sample still names the syscall or the library it is in. Each sample goes to the
first category (in the order below) whose keys appear anywhere in its stack, else to "other"
with its top frame. Prints, for the THREADS (default 4) busiest threads, their sample count
and the share of each category (bench/README.md quotes these shares).
"""
import collections
import sys

CATEGORIES = [
    ("fsync", ["fdatasync", "fsync"]),
    ("pwrite", ["pwrite"]),
    ("sendmsg", ["sendmsg", "__send"]),
    ("recvmsg", ["recvmsg", "recv"]),
    ("epoll", ["epoll_wait"]),
    ("futex", ["futex"]),
    ("page faults", ["exc_page_fault"]),
    ("TLB-flush IPIs", ["smp_call_function"]),
    ("madvise/munmap/brk", ["madvise", "munmap", "brk"]),
    ("write (logs)", ["__libc_write", "write_nocancel", "fwrite"]),
    ("sqlite", ["sqlite3"]),
    ("sha256/hmac", ["sha256", "SHA256", "HMAC", "EVP_"]),
    ("boost.json", ["boost::json"]),
    ("beast", ["boost::beast"]),
    ("malloc/free", ["malloc", "_int_free", "cfree", "malloc_consolidate"]),
    ("rules", ["linkpilot::rules"]),
    ("spdlog/fmt", ["spdlog", "fmt::"]),
    ("asio", ["boost::asio"]),
    ("memmove/memset", ["memmove", "memcpy", "memset"]),
]


def main():
    top_threads = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    totals = collections.Counter()
    by_category = collections.defaultdict(collections.Counter)
    thread, stack = None, []

    def flush():
        if thread is None:
            return
        totals[thread] += 1
        text = "\n".join(stack)
        for name, keys in CATEGORIES:
            if any(k in text for k in keys):
                by_category[thread][name] += 1
                return
        top = stack[0].split()[1] if stack and len(stack[0].split()) > 1 else "?"
        by_category[thread]["other: " + top[:60]] += 1

    for line in sys.stdin:
        if not line.strip():
            flush()
            thread, stack = None, []
        elif not line.startswith((" ", "\t")):
            parts = line.split()
            thread = parts[0] + "/" + parts[1]  # comm/tid
        else:
            stack.append(line.strip())
    flush()
    for t, n in totals.most_common(top_threads):
        print(f"{t}: {n} samples")
        for name, k in by_category[t].most_common(15):
            print(f"   {name:<48} {100 * k / n:5.1f}%")


if __name__ == "__main__":
    main()
