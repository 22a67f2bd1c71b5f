"""What an operator names when publishing: the image, its repository, a version's digest and tags, and
the rule that a tag names one version of an image at a time."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portal.catalog.models import Image, ImageVersion
from portal.errors import Conflict, ErrorDetail, ValidationFailed
from portal.kit.clock import rfc3339
from portal.sbom import MAX_SBOM_BYTES

DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"
_DIGEST = re.compile(DIGEST_PATTERN)
# Docker's reference grammar: lower-case path components joined by separators.
_IMAGE_NAME = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_LABEL = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class PublishRequest:
    name: str
    repository: str
    digest: str
    tags: tuple[str, ...]
    sbom: bytes
    architectures: tuple[str, ...] = ()
    hardening_tags: tuple[str, ...] = ()
    description: str | None = None
    # The repository is the image's, shared by every version: changing it must be meant.
    move_repository: bool = False


@dataclass(frozen=True, slots=True)
class MovedTag:
    """A tag a version took from another version of the same image, which no longer carries it."""

    tag: str
    from_version: ImageVersion


def take_tags(version: ImageVersion, others: Iterable[ImageVersion]) -> list[MovedTag]:
    """Gives `version`'s tags to it alone: every other version of the image that carries one loses it
    (and keeps its other tags). Returns what moved, tag by tag."""
    wanted = set(version.tags)
    moved: list[MovedTag] = []
    for other in others:
        if other.id == version.id:
            continue
        taken = [tag for tag in other.tags if tag in wanted]
        if taken:
            other.tags = [tag for tag in other.tags if tag not in wanted]
            moved.extend(MovedTag(tag=tag, from_version=other) for tag in taken)
    return sorted(moved, key=lambda move: version.tags.index(move.tag))


def checked_request(request: PublishRequest) -> PublishRequest:
    """The request with its labels normalized, or a ValidationFailed naming every bad field."""
    problems: list[ErrorDetail] = []

    def bad(field: str, message: str) -> None:
        problems.append(ErrorDetail(path=[field], message=message, code="invalid_format"))

    name = request.name.strip()
    if not (0 < len(name) <= 200 and _IMAGE_NAME.fullmatch(name)):
        bad("name", f"{request.name!r} is not an image name (lower-case a-z, 0-9, '.', '_', '-', '/')")
    repository = request.repository.strip()
    if not repository or len(repository) > 500 or any(c.isspace() for c in repository):
        bad("repository", f"{request.repository!r} is not a repository (e.g. registry.example.com/python)")
    digest = request.digest.strip()
    if not _DIGEST.fullmatch(digest):
        bad("digest", f"{request.digest!r} is not a digest; expected sha256:<64 lower-case hex>")
    if not request.tags:
        bad("tags", "at least one tag is needed")
    for message in _tag_problems(request.tags):
        bad("tags", message)
    architectures = tuple(dict.fromkeys(a.strip().lower() for a in request.architectures))
    for architecture in architectures:
        if not _LABEL.fullmatch(architecture):
            bad("architectures", f"{architecture!r} is not an architecture name")
    hardening = tuple(dict.fromkeys(h.strip().lower() for h in request.hardening_tags))
    for tag in hardening:
        if not _LABEL.fullmatch(tag):
            bad("hardeningTags", f"{tag!r} is not a hardening tag (a-z, 0-9, '.', '_', '-')")
    description = request.description.strip() if request.description is not None else None
    if description is not None and len(description) > 2000:
        bad("description", "at most 2000 characters")
    if len(request.sbom) > MAX_SBOM_BYTES:
        bad("sbom", f"the SBOM is {len(request.sbom)} bytes; at most {MAX_SBOM_BYTES} are accepted")
    _refuse("The version cannot be published", problems)
    return PublishRequest(
        name=name,
        repository=repository,
        digest=digest,
        tags=tuple(dict.fromkeys(request.tags)),
        sbom=request.sbom,
        architectures=architectures,
        hardening_tags=hardening,
        description=description,
        move_repository=request.move_repository,
    )


def checked_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """The tags without repeats, or a ValidationFailed naming each bad one."""
    problems = [ErrorDetail(path=["tags"], message=m, code="invalid_format") for m in _tag_problems(tags)]
    _refuse("The version cannot be republished", problems)
    return tuple(dict.fromkeys(tags))


def _tag_problems(tags: Iterable[str]) -> list[str]:
    return [
        f"{tag!r} is not a tag (A-Z, a-z, 0-9, '_', '.', '-'; at most 128)"
        for tag in tags
        if not _TAG.fullmatch(tag)
    ]


def _refuse(what: str, problems: list[ErrorDetail]) -> None:
    if problems:
        lines = "\n".join(f"  {p.path[0]}: {p.message}" for p in problems)
        raise ValidationFailed(f"{what}:\n{lines}", details=problems)


def refuse_known_digest(image: Image, versions: list[ImageVersion], digest: str) -> None:
    """A digest names one version for good: publishing it again says what to do instead."""
    known = next((v for v in versions if v.digest == digest), None)
    if known is None:
        return
    if known.unpublished_at is not None:
        raise Conflict(
            f"Image {image.name} already has a version with digest {digest}, unpublished since "
            f"{rfc3339(known.unpublished_at)}: bring it back (same SBOM and scan history) with "
            f"`portal images republish --image {image.name} --digest {digest}` (add --tag to set its tags)."
        )
    raise Conflict(
        f"Image {image.name} already has a version with digest {digest} (version {known.id}, "
        f"tags {', '.join(known.tags) or 'none'}), published."
    )


def repository_change(image: Image, repository: str, versions: int) -> str:
    return (
        f"Image {image.name} is pulled from {image.repository}; this publish names {repository}. The "
        f"repository is the image's, for all its versions ({versions} so far): to move every one of them to "
        f"{repository}, publish again with --move-repository."
    )
