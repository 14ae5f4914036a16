from django.core.files.storage import FileSystemStorage


class BrokenStorage(FileSystemStorage):
    """A storage that cannot write, as a full disk or a revoked bucket would behave."""

    def _save(self, name, content):
        raise OSError("No space left on device")
