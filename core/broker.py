"""kombu's filesystem transport (the embedded run's broker) with each message written atomically.

kombu creates a message's file under its final name and then writes it; a worker polling the
folder can take the file in between, read nothing, and stop with "Unrecoverable error:
JSONDecodeError" (kombu issue #1551), which ends `make run` altogether. Here the message is
written under a name the readers skip and renamed into place once complete: a rename within a
folder is atomic, so a reader sees the whole message or none of it. config/celery.py puts this
transport behind the ``filesystem://`` broker URL.
"""

import contextlib
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class AtomicChannel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # kombu's own naming: readers take the files in the order of these names.
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Readers take only names whose part after the first dot is "<queue>.msg".
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.remove(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicChannel
