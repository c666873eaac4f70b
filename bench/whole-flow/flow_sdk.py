"""The whole flow with openstacksdk, in a process of its own.

    flow_sdk.py <default|floor> <cloud> <flavor>

`default` uses openstacksdk's own waiters as they come (every wait polls every 2 s); `floor` makes
the same calls but polls every 0.1 s. HTTP requests are counted where keystoneauth sends them
(Session._send_request: one per request on the wire, retries and redirects included). Prints
RESULT <json> with each step's time and request count.
"""
import io
import json
import logging
import sys
import time

import openstack
from keystoneauth1 import session as ks_session

logging.disable(logging.CRITICAL)

COUNT = {"n": 0}
_send = ks_session.Session._send_request


def _counting_send(self, *args, **kwargs):
    COUNT["n"] += 1
    return _send(self, *args, **kwargs)


ks_session.Session._send_request = _counting_send


def main():
    mode, cloud, flavor_name = sys.argv[1:4]
    # Keyword arguments for every wait: openstacksdk's defaults, or a 0.1 s poll.
    poll = {} if mode == "default" else {"interval": 0.1}
    tag = "dataswap-bench-sdk-%s-%x" % (mode, int(time.time() * 1000))
    steps = []
    made = {}

    def step(name, fn):
        n0 = COUNT["n"]
        t0 = time.perf_counter()
        out = fn()
        steps.append({"name": name, "ms": (time.perf_counter() - t0) * 1000, "requests": COUNT["n"] - n0})
        return out

    t_start = time.perf_counter()
    conn = step("connect", lambda: openstack.connect(cloud=cloud))
    bs = conn.block_storage
    compute = conn.compute
    try:
        def upload():
            image = conn.image.create_image(
                name=tag + "-software", data=io.BytesIO(b"\0" * (1 << 20)),
                disk_format="raw", container_format="bare")
            made["image"] = image
            return image

        image = step("upload image (1 MiB)", upload)

        def data_volume():
            v = bs.create_volume(name=tag + "-data", size=1)
            made["data"] = v
            return bs.wait_for_status(v, "available", failures=["error"], **poll)

        data = step("create data volume", data_volume)

        def boot():
            flavor = compute.find_flavor(flavor_name, ignore_missing=False)
            s = compute.create_server(
                name=tag + "-server", flavor_id=flavor.id, networks="none",
                block_device_mapping=[
                    {"source_type": "image", "destination_type": "volume", "uuid": image.id,
                     "boot_index": 0, "volume_size": 1, "delete_on_termination": True},
                    {"source_type": "volume", "destination_type": "volume", "uuid": data.id,
                     "boot_index": -1, "delete_on_termination": False},
                ])
            made["server"] = s
            return compute.wait_for_server(s, **poll)

        server = step("boot from volume with the data volume", boot)

        def snapshot():
            s = bs.create_snapshot(volume_id=data.id, name=tag + "-gen-1", force=True)
            made["snapshot"] = s
            return bs.wait_for_status(s, "available", failures=["error"], **poll)

        snap = step("forced snapshot of the in-use data volume", snapshot)

        def restore():
            v = bs.create_volume(name=tag + "-data-2", snapshot_id=snap.id, size=1)
            made["restored"] = v
            return bs.wait_for_status(v, "available", failures=["error"], **poll)

        restored = step("volume from the snapshot", restore)

        def detach():
            compute.delete_volume_attachment(data.id, server)
            # wait_for_status first looks at the object it is given: the local copy still says
            # `available` (from its creation), so it would return at once. Waiting for real needs
            # a fresh read, as a user must write it.
            return bs.wait_for_status(bs.get_volume(data.id), "available", failures=["error"], **poll)

        step("detach the old data volume", detach)

        def attach():
            compute.create_volume_attachment(server, volume_id=restored.id)
            return bs.wait_for_status(restored, "in-use", failures=["error"], **poll)

        step("attach the new data volume", attach)
    finally:
        def delete_everything():
            if "server" in made:
                compute.delete_server(made["server"])
                compute.wait_for_delete(made["server"], **poll)
            if "snapshot" in made:
                bs.delete_snapshot(made["snapshot"])
                bs.wait_for_delete(made["snapshot"], **poll)
            for key in ("restored", "data"):
                if key in made:
                    bs.delete_volume(made[key])
                    bs.wait_for_delete(made[key], **poll)
            if "image" in made:
                conn.image.delete_image(made["image"])

        step("delete everything", delete_everything)

    total = {"ms": (time.perf_counter() - t_start) * 1000, "requests": COUNT["n"]}
    sys.stdout.write("RESULT " + json.dumps({"variant": "openstacksdk-" + mode, "version": openstack.version.__version__,
                                              "steps": steps, "total": total}) + "\n")


if __name__ == "__main__":
    main()
