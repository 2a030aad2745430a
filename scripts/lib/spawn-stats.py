# Runs commands and reports each run's wall time and peak RSS from wait4(2).
# Used by bench-startup.ts: a child forked by Bun reports Bun's own RSS as its
# peak, so the measuring parent must be small and spawn without copying
# itself (CPython uses vfork/posix_spawn here).
# stdin: JSON {"runs": N, "warmup": W, "cases": [{"name", "argv", "stdin", "env"}]}
# stdout: JSON [{"name", "wall_ms": [...], "max_rss_kb": [...]}]
import json, os, subprocess, sys, time

spec = json.load(sys.stdin)
out = []
for case in spec["cases"]:
    env = dict(os.environ, **case.get("env", {}))
    data = case.get("stdin")
    wall, rss = [], []
    for i in range(spec["warmup"] + spec["runs"]):
        t0 = time.perf_counter()
        p = subprocess.Popen(case["argv"], env=env, stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if data is not None:
            p.stdin.write(data.encode())
            p.stdin.close()
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        ms = (time.perf_counter() - t0) * 1000
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"{case['name']} exited {code}: {err.decode(errors='replace')}")
        if i >= spec["warmup"]:
            wall.append(ms)
            rss.append(usage.ru_maxrss)
    out.append({"name": case["name"], "wall_ms": wall, "max_rss_kb": rss})
json.dump(out, sys.stdout)
