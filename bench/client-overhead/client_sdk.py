"""openstacksdk as a client of the client-overhead benchmark, in a process of its own.

    client_sdk.py <base> <requests> <in-flight> <warm-up> <volume-id> <server-id>

Connects with password auth to the fake Keystone of server.ts, then alternates
conn.block_storage.get_volume / conn.compute.get_server: sequentially, then with <in-flight>
threads. Logging is off (as for dataswap). Prints RESULT <json>: wall and CPU time per phase
(resource.getrusage) and the peak RSS.
"""
import json
import logging
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import openstack

logging.disable(logging.CRITICAL)


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main():
    base, n, inflight, warm, volume_id, server_id = sys.argv[1:7]
    n, inflight, warm = int(n), int(inflight), int(warm)
    conn = openstack.connect(
        auth_url=base + "/identity/v3",
        username="bench",
        password="bench",
        project_name="bench",
        user_domain_name="Default",
        project_domain_name="Default",
        load_yaml_config=False,
        load_envvars=False,
    )

    def get(i):
        if i % 2:
            return conn.compute.get_server(server_id)
        return conn.block_storage.get_volume(volume_id)

    def phase(count, parallel):
        cpu0 = cpu_seconds()
        t0 = time.perf_counter()
        if parallel == 1:
            for i in range(count):
                get(i)
        else:
            with ThreadPoolExecutor(max_workers=parallel) as pool:
                for _ in pool.map(get, range(count)):
                    pass
        wall = time.perf_counter() - t0
        return {
            "requests": count,
            "inflight": parallel,
            "wallMs": wall * 1000,
            "cpuMs": (cpu_seconds() - cpu0) * 1000,
        }

    # Each phase right after its own warm-up.
    phase(warm, 1)
    sequential = phase(n, 1)
    phase(warm, inflight)
    concurrent = phase(n, inflight)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "variant": "openstacksdk",
        "version": openstack.version.__version__,
        "sequential": sequential,
        "concurrent": concurrent,
        "peakRssMiB": peak,
    }
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
