"""Photos on requests: with the registration and with the 交单 (report).

Bounded (FRONTLINE_REQUEST_PHOTO_MAX_MB each, FRONTLINE_REQUEST_PHOTOS_MAX per step),
recognised by their first bytes and not by their name or the browser's word (a JPEG, PNG or
WebP image, nothing else: a file that is not one is refused, whatever it is called), stored
under a random name in the private photo folder with mode 0600, and served only through
views that check who asks (see `photo_for` and `resident_photo_for`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _

from frontline.core.errors import DomainError

from .models import Request, RequestPhoto

CHUNK = 64 * 1024

# (leading bytes, offset) → (content type, extension)
_JPEG = ("image/jpeg", ".jpg")
_PNG = ("image/png", ".png")
_WEBP = ("image/webp", ".webp")


def photo_dir() -> Path:
    return Path(settings.FRONTLINE_PHOTO_DIR)


def max_bytes() -> int:
    return int(settings.FRONTLINE_REQUEST_PHOTO_MAX_MB) * 1024 * 1024


def max_count() -> int:
    return int(settings.FRONTLINE_REQUEST_PHOTOS_MAX)


def sniff(head: bytes) -> tuple[str, str] | None:
    """The image type the first bytes announce, or None for anything else."""
    if head.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _WEBP
    return None


@dataclass(frozen=True)
class CheckedPhoto:
    upload: Any  # an UploadedFile (or anything with name, size, chunks / read)
    content_type: str
    extension: str


def _name(upload: Any) -> str:
    return os.path.basename(str(getattr(upload, "name", "") or _("photo")))[:60]


def _head(upload: Any) -> bytes:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    return head


def check_photos(uploads: Iterable[Any]) -> list[CheckedPhoto]:
    """Refuse the whole lot, with a message naming the file, unless every photo is an image
    within the limits and there are not too many. Reads only the first bytes of each."""
    uploads = [u for u in uploads if u is not None]
    limit = max_count()
    if len(uploads) > limit:
        raise DomainError(_("At most %(n)d photos at a time; choose fewer.") % {"n": limit})
    checked = []
    for upload in uploads:
        size = int(getattr(upload, "size", 0) or 0)
        if size > max_bytes():
            raise DomainError(
                _("%(name)s is larger than %(mb)d MB; take a smaller photo.")
                % {"name": _name(upload), "mb": settings.FRONTLINE_REQUEST_PHOTO_MAX_MB}
            )
        if size == 0:
            raise DomainError(_("%(name)s is empty.") % {"name": _name(upload)})
        kind = sniff(_head(upload))
        if kind is None:
            raise DomainError(
                _("%(name)s is not a photo: only JPEG, PNG and WebP images are taken.")
                % {"name": _name(upload)}
            )
        checked.append(CheckedPhoto(upload, *kind))
    return checked


def _write(source: IO[bytes] | Any, target: Path) -> tuple[int, str]:
    """Copy the upload to `target` (created 0600, never over an existing file)."""
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        chunks = (
            source.chunks(CHUNK)
            if hasattr(source, "chunks")
            else iter(lambda: source.read(CHUNK), b"")
        )
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes():  # a size that lied: refuse rather than fill the disk
                raise DomainError(_("A photo is larger than its size said; nothing was kept."))
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def photos_store(
    *, request: Request, step: str, photos: list[CheckedPhoto], actor: Any, actor_name: str = ""
) -> list[RequestPhoto]:
    """Write checked photos to the private folder and record them. Call inside the
    transaction that writes the step: if it rolls back, the files are removed here."""
    if not photos:
        return []
    folder = photo_dir() / str(request.pk)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    rows = []
    try:
        for photo in photos:
            relative = f"{request.pk}/{secrets.token_hex(16)}{photo.extension}"
            target = photo_dir() / relative
            photo.upload.seek(0)
            size, digest = _write(photo.upload, target)
            written.append(target)
            rows.append(
                RequestPhoto.objects.create(
                    request=request,
                    step=step,
                    content_type=photo.content_type,
                    size=size,
                    sha256=digest,
                    path=relative,
                    uploaded_by=actor if getattr(actor, "pk", None) else None,
                    uploaded_by_name=(
                        actor_name
                        or (actor.get_full_name() or actor.username if actor is not None else "")
                    )[:150],
                )
            )
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink()
        raise
    return rows


def _photo(request_id: Any, photo_id: Any) -> RequestPhoto:
    try:
        return RequestPhoto.objects.get(pk=photo_id, request_id=request_id)
    except (RequestPhoto.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def photo_for(user: Any, request_id: Any, photo_id: Any) -> RequestPhoto:
    """A photo of a request the user may see (inside, or assigned to them); 404 else."""
    from .queries import visible_requests

    if not visible_requests(user).filter(pk=request_id).exists():
        raise Http404
    return _photo(request_id, photo_id)


def resident_photo_for(household: Any, request_id: Any, photo_id: Any) -> RequestPhoto:
    """A photo of one of the household's own requests (its signed link); 404 else."""
    if not Request.objects.filter(pk=request_id, household_id=household.pk).exists():
        raise Http404
    return _photo(request_id, photo_id)


def open_photo(photo: RequestPhoto) -> IO[bytes]:
    path = (photo_dir() / photo.path).resolve()
    if photo_dir().resolve() not in path.parents or not path.is_file():
        raise Http404
    return path.open("rb")
