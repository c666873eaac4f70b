# Cinder volume driver for dataswap's loopback test cloud.
#
# Extends Cinder's own test driver (cinder.tests.fake_driver.
# FakeLoggingVolumeDriver, shipped by Debian's python3-cinder) so that every
# volume and snapshot is a sparse file in a local directory.  That gives the
# stack real data paths without block devices, LVM or iSCSI:
#
#   * volume from image: the image is downloaded from Glance and written to the
#     volume file (qemu-img converts non-raw images);
#   * volume to image, clone, snapshot, volume from snapshot, revert, extend:
#     plain file copies and truncates;
#   * connections are of os-brick's "local" type (a device path), which Nova's
#     fake virt driver accepts without I/O and which cinder-backup can open and
#     read, so backups and restores move real bytes.
#
# Loaded by cinder-volume only (the stack puts this file's directory on
# sys.path); configured in cinder.conf's backend section:
#
#   volume_driver = dataswap_fake_volume.FileBackedFakeDriver
#   dataswap_volume_dir = /var/tmp/dataswap-stack/cinder/volumes
#   dataswap_connection_type = local     # or "iscsi": metadata-only, like the
#                                        # parent driver (no backup possible)

import os
import subprocess

from oslo_config import cfg
from oslo_log import log as logging

from cinder.image import image_utils
from cinder.tests import fake_driver
from cinder.volume import volume_utils

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3

dataswap_opts = [
    cfg.StrOpt('dataswap_volume_dir',
               default='$state_path/dataswap-volumes',
               help='Directory holding one sparse file per volume and '
                    'per snapshot.'),
    cfg.StrOpt('dataswap_connection_type',
               default='local',
               choices=['local', 'iscsi'],
               help='"local": connections carry the file path (os-brick '
                    'LOCAL protocol). "iscsi": fake iSCSI connection info '
                    'without any target, as the parent test driver does.'),
    cfg.IntOpt('dataswap_capacity_gb',
               default=1000,
               help='Capacity reported to the scheduler.'),
]


class FileBackedFakeDriver(fake_driver.FakeLoggingVolumeDriver):
    """FakeLoggingVolumeDriver whose volumes are sparse files."""

    VERSION = '1.0.0'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.configuration is not None:
            self.configuration.append_config_values(dataswap_opts)
        self.backend_name = (
            self.configuration.safe_get('volume_backend_name') or 'fake')
        self.protocol = self._conn_type()

    # -- helpers -----------------------------------------------------------

    def _conn_type(self):
        return self.configuration.safe_get('dataswap_connection_type') or \
            'local'

    def _dir(self):
        path = self.configuration.safe_get('dataswap_volume_dir')
        if not path:
            path = os.path.join(cfg.CONF.state_path, 'dataswap-volumes')
        os.makedirs(path, exist_ok=True)
        return path

    def local_path(self, volume, vg=None):
        return os.path.join(self._dir(), 'volume-%s' % volume['id'])

    def _snapshot_path(self, snapshot):
        return os.path.join(self._dir(), 'snapshot-%s' % snapshot['id'])

    @staticmethod
    def _copy(src, dst):
        # coreutils cp keeps holes (SEEK_DATA/SEEK_HOLE), so copying an
        # empty 1 GiB volume costs next to nothing.
        tmp = dst + '.part'
        subprocess.run(['cp', '--sparse=always', '--reflink=auto', src, tmp],
                       check=True)
        os.replace(tmp, dst)

    @staticmethod
    def _resize(path, size_gb):
        # Only ever grow: never cut data that a copy brought in.
        want = int(size_gb) * GiB
        if os.path.getsize(path) < want:
            os.truncate(path, want)

    def _ensure_file(self, path, size_gb):
        if not os.path.exists(path):
            with open(path, 'ab'):
                pass
        self._resize(path, size_gb)

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass

    # -- setup and stats ---------------------------------------------------

    def do_setup(self, context):
        self._dir()

    def check_for_setup_error(self):
        if not os.access(self._dir(), os.W_OK):
            raise RuntimeError('dataswap_volume_dir is not writable')

    def _update_volume_stats(self):
        capacity = self.configuration.safe_get('dataswap_capacity_gb') or 1000
        used = 0
        for name in os.listdir(self._dir()):
            if name.startswith('volume-') and not name.endswith('.part'):
                try:
                    used += os.path.getsize(os.path.join(self._dir(), name))
                except OSError:
                    pass
        used_gb = used // GiB
        pool = {
            'pool_name': self.backend_name,
            'total_capacity_gb': capacity,
            'free_capacity_gb': max(capacity - used_gb, 0),
            'provisioned_capacity_gb': used_gb,
            'allocated_capacity_gb': used_gb,
            'reserved_percentage': 0,
            'max_over_subscription_ratio': 20.0,
            'thin_provisioning_support': True,
            'thick_provisioning_support': False,
            'QoS_support': False,
            'multiattach': False,
            'filter_function': self.get_filter_function(),
            'goodness_function': self.get_goodness_function(),
        }
        self._stats = {
            'volume_backend_name': self.backend_name,
            'vendor_name': 'dataswap',
            'driver_version': self.VERSION,
            'storage_protocol': self.protocol,
            'sparse_copy_volume': True,
            'pools': [pool],
        }

    # -- volumes -----------------------------------------------------------

    @volume_utils.trace_method
    def create_volume(self, volume):
        self._ensure_file(self.local_path(volume), volume['size'])

    @volume_utils.trace_method
    def delete_volume(self, volume):
        self._unlink(self.local_path(volume))

    @volume_utils.trace_method
    def create_cloned_volume(self, volume, src_vref):
        src = self.local_path(src_vref)
        dst = self.local_path(volume)
        if os.path.exists(src):
            self._copy(src, dst)
        self._ensure_file(dst, volume['size'])

    @volume_utils.trace_method
    def extend_volume(self, volume, new_size):
        self._ensure_file(self.local_path(volume), new_size)

    # -- snapshots ---------------------------------------------------------

    @volume_utils.trace_method
    def create_snapshot(self, snapshot):
        src = os.path.join(self._dir(), 'volume-%s' % snapshot['volume_id'])
        dst = self._snapshot_path(snapshot)
        if os.path.exists(src):
            self._copy(src, dst)
        else:
            self._ensure_file(dst, snapshot['volume_size'])

    @volume_utils.trace_method
    def delete_snapshot(self, snapshot):
        self._unlink(self._snapshot_path(snapshot))

    @volume_utils.trace_method
    def create_volume_from_snapshot(self, volume, snapshot):
        src = self._snapshot_path(snapshot)
        dst = self.local_path(volume)
        if os.path.exists(src):
            self._copy(src, dst)
        self._ensure_file(dst, volume['size'])

    @volume_utils.trace_method
    def revert_to_snapshot(self, context, volume, snapshot):
        src = self._snapshot_path(snapshot)
        if os.path.exists(src):
            self._copy(src, self.local_path(volume))
        self._ensure_file(self.local_path(volume), volume['size'])

    # -- images ------------------------------------------------------------

    @volume_utils.trace_method
    def copy_image_to_volume(self, context, volume, image_service, image_id,
                             **kwargs):
        path = self.local_path(volume)
        # Root is running this service: no root helper needed.
        image_utils.fetch_to_raw(context, image_service, image_id, path,
                                 self.configuration.volume_dd_blocksize,
                                 size=volume['size'], run_as_root=False)
        self._ensure_file(path, volume['size'])

    @volume_utils.trace_method
    def copy_image_to_encrypted_volume(self, context, volume, image_service,
                                       image_id, **kwargs):
        self.copy_image_to_volume(context, volume, image_service, image_id)

    @volume_utils.trace_method
    def copy_volume_to_image(self, context, volume, image_service,
                             image_meta):
        path = self.local_path(volume)
        self._ensure_file(path, volume['size'])
        volume_utils.upload_volume(context, image_service, image_meta, path,
                                   volume, run_as_root=False)

    # -- connections -------------------------------------------------------

    def _connection(self, path, access_mode='rw'):
        if self._conn_type() == 'iscsi':
            return {'driver_volume_type': 'iscsi',
                    'data': {'access_mode': access_mode}}
        return {'driver_volume_type': 'local',
                'data': {'device_path': path, 'access_mode': access_mode}}

    @volume_utils.trace_method
    def initialize_connection(self, volume, connector, **kwargs):
        conn = super().initialize_connection(volume, connector)
        mode = conn.get('data', {}).get('access_mode', 'rw')
        path = self.local_path(volume)
        self._ensure_file(path, volume['size'])
        return self._connection(path, mode)

    @volume_utils.trace_method
    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return self._connection(self._snapshot_path(snapshot), 'ro')
