"""A stand-in for `python:3.11-slim-bookworm`, made from Debian's packages.

No registry image can be pulled on these machines, so `make image` builds the
Dockerfile on this instead. It gives a Dockerfile what the official image does:
Python 3.11 (bookworm's python3), `python` and `pip` on PATH, pip allowed to
install into the system (the PEP 668 marker removed, as the official image has
none), CA certificates, `groupadd`/`useradd`, no documentation, no apt lists.

The root filesystem comes from debootstrap and is kept as a tarball in
~/.cache/taskmanager-image/ (or $IMAGE_CACHE_DIR), named after a hash of this
file: any change to how the base is made builds a new one. The tarball is
imported into buildah's local storage under a tag carrying the same hash.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

from devtools.buildah import buildah, image_exists, run, say

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
SECURITY_MIRROR = "http://deb.debian.org/debian-security"
PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates", "netbase")
IMAGE_REPOSITORY = "localhost/taskmanager-base"

SOURCES_LIST = f"""\
deb {MIRROR} {SUITE} main
deb {MIRROR} {SUITE}-updates main
deb {SECURITY_MIRROR} {SUITE}-security main
"""
# As in Debian's slim images: what dpkg never unpacks again after the clean-up.
DPKG_EXCLUDES = """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
"""
# The environment the official image sets, less its own build variables.
IMAGE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
}


def recipe_key() -> str:
    """A hash of this file: how the base is made, all of it in one place."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]


def image_name() -> str:
    return f"{IMAGE_REPOSITORY}:py311-{SUITE}-{recipe_key()}"


def cache_dir() -> Path:
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return Path(os.environ.get("IMAGE_CACHE_DIR", default / "taskmanager-image"))


def ensure_base_image() -> str:
    """The base image's name in buildah's storage, made or imported when missing."""
    name = image_name()
    if image_exists(name):
        say(f"base image {name}: cached in buildah's storage")
        return name
    tarball = cache_dir() / f"base-{recipe_key()}.tar"
    if tarball.exists():
        say(f"base image: importing the cached root filesystem {tarball}")
    else:
        make_root_tarball(tarball)
    import_tarball(tarball, name)
    return name


def make_root_tarball(tarball: Path) -> None:
    started = time.monotonic()
    tarball.parent.mkdir(parents=True, exist_ok=True)
    forget_other_tarballs(tarball)
    root = tarball.with_suffix(".root")
    remove_tree(root)
    say(f"base image: debootstrap {SUITE} from {MIRROR} (a few minutes, once)")
    try:
        debootstrap(root)
        finish_root(root)
        partial = tarball.with_suffix(".partial")
        run(["tar", "--numeric-owner", "-C", str(root), "-cf", str(partial), "."])
        partial.rename(tarball)  # only a whole tarball ever carries the final name
    finally:
        remove_tree(root)
    say(f"base image: root filesystem made in {time.monotonic() - started:.0f} s")


def debootstrap(root: Path) -> None:
    run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={','.join(PACKAGES)}",
            SUITE,
            str(root),
            MIRROR,
        ]
    )


def finish_root(root: Path) -> None:
    """Security updates, then the slim image's clean-up and pip's system installs."""
    (root / "etc/apt/sources.list").write_text(SOURCES_LIST)
    (root / "etc/dpkg/dpkg.cfg.d/excludes").write_text(DPKG_EXCLUDES)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["chroot", str(root), "apt-get", "update", "-qq"], env=env)
    run(["chroot", str(root), "apt-get", "upgrade", "-y", "-qq"], env=env)
    run(["chroot", str(root), "apt-get", "clean"], env=env)
    for marker in root.glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
        marker.unlink()
    for leftover in ("var/lib/apt/lists", "var/cache/apt", "var/log"):
        empty_directory(root / leftover)
    for documentation in ("usr/share/man", "usr/share/info", "usr/share/locale"):
        empty_directory(root / documentation)
    remove_documentation_but_copyright(root / "usr/share/doc")


def empty_directory(directory: Path) -> None:
    for child in directory.glob("*"):
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def remove_documentation_but_copyright(doc_dir: Path) -> None:
    for path in doc_dir.rglob("*"):
        if path.is_file() and path.name != "copyright":
            path.unlink()


def import_tarball(tarball: Path, name: str) -> None:
    container = buildah("from", "scratch", capture=True).strip()
    try:
        buildah("add", "--quiet", container, str(tarball), "/")
        env_options = [f"--env={key}={value}" for key, value in IMAGE_ENV.items()]
        buildah(
            "config",
            *env_options,
            "--cmd",
            "python3",
            "--label",
            "org.opencontainers.image.description="
            f"stand-in for python:3.11-slim-bookworm from Debian {SUITE} packages",
            container,
        )
        buildah("commit", "--quiet", "--format", "docker", container, name)
    finally:
        buildah("rm", container, capture=True)
    say(f"base image {name}: imported into buildah's storage")


def forget_other_tarballs(keep: Path) -> None:
    """Bases made by an older recipe: nothing will import them again."""
    for old in keep.parent.glob("base-*.tar"):
        if old != keep:
            old.unlink()


def remove_tree(root: Path) -> None:
    """Remove a (partial) debootstrap root without following a mount out of it."""
    if not root.exists():
        return
    for mount_point in mounts_under(root):
        subprocess.run(["umount", "--lazy", mount_point], check=False)
    run(["rm", "-rf", "--one-file-system", str(root)])


def mounts_under(root: Path) -> list[str]:
    prefix = f"{root.resolve()}/"
    points = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    return sorted((p for p in points if p.startswith(prefix)), reverse=True)
